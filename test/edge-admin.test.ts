import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { passwordFromStdin } from '../src/cli/read-password.js';
import { ConfigError } from '../src/config.js';
import { loadSettings } from '../src/settings.js';
import { keepsakeArgs, REPO_ROOT, runKeepsake, type CliResult } from './helpers/cli.js';
import { Client } from './helpers/client.js';
import { makeJpeg, tempDir, waitUntil } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/*
 * What an admin meets at the edges: two keys cannot share a password, a password need not be
 * typed on the command line, the database and secrets stay private, and a NAS's litter
 * (#recycle, @eaDir, Thumbs.db…) is never shown as albums or photos.
 */

const USER_MISTAKE_HAS_NO_STACK = /\n\s+at /;

/**
 * `keepsake <args>` as a separate process whose standard input the test controls: `input` is
 * written and stdin ended; `null` leaves stdin open (a process that waits on it is killed at
 * the deadline, by its PID, and the result says so).
 */
function runWithStdin(args: readonly string[], env: Record<string, string>, input: string | null, timeoutMs = 45_000): Promise<CliResult & { timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, keepsakeArgs(args), {
      cwd: REPO_ROOT,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    // A child that exits before reading its input must not fail the test with EPIPE.
    child.stdin.on('error', () => undefined);
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr, timedOut });
    });
    if (input !== null) child.stdin.end(input);
  });
}

async function albumPaths(client: Client, album?: string): Promise<string[]> {
  const response = await client.get(album === undefined ? '/api/albums' : `/api/albums/${encodeURIComponent(album)}`);
  assert.equal(response.status, 200, `GET /api/albums${album === undefined ? '' : `/${album}`}`);
  const body = (await response.json()) as { albums: { path: string }[] };
  return body.albums.map((entry) => entry.path);
}

async function itemNames(client: Client, album: string): Promise<string[]> {
  const response = await client.get(`/api/albums/${encodeURIComponent(album)}`);
  assert.equal(response.status, 200, `GET /api/albums/${album}`);
  const body = (await response.json()) as { items: { name: string }[] };
  return body.items.map((item) => item.name);
}

async function loggedIn(server: TestServer, password: string): Promise<Client> {
  const client = new Client(server.url);
  const response = await client.login(password);
  assert.equal(response.status, 303, 'the password logs in');
  return client;
}

async function keyLabels(env: Record<string, string>): Promise<string[]> {
  const listed = await runKeepsake(['key', 'list'], env);
  assert.equal(listed.code, 0, listed.stderr);
  return listed.stdout
    .split('\n')
    .slice(1)
    .map((line) => line.split(/\s{2,}/)[0] ?? '')
    .filter((label) => label !== '')
    .sort();
}

async function modeOf(file: string): Promise<number | undefined> {
  return stat(file).then((stats) => stats.mode & 0o777, () => undefined);
}

const octal = (mode: number | undefined): string => (mode === undefined ? 'missing' : mode.toString(8).padStart(3, '0'));


// ---------------------------------------------------------------------------------------------

describe('keys cannot share a password', () => {
  const KIDS_PASSWORD = 'only the kids albums please';

  it('refuses `key add` with a password another key has, naming that key, and adds nothing', async () => {
    const server = await startTestServer({ keys: [{ label: 'kids', password: KIDS_PASSWORD, albums: ['Kids'] }] });
    try {
      const family = server.firstPassword;
      assert.ok(family, 'the first start made the key "family" with a generated password');
      const [withFamilys, withKids] = await Promise.all([
        runKeepsake(['key', 'add', 'friends', '--password', family], server.env),
        runKeepsake(['key', 'add', 'friends', '--password', KIDS_PASSWORD, '--albums', 'Summer 2024'], server.env),
      ]);
      for (const [result, holder] of [[withFamilys, 'family'], [withKids, 'kids']] as const) {
        assert.notEqual(result.code, 0, `a password taken by "${holder}" is refused`);
        assert.match(result.stderr, new RegExp(`key "${holder}" already has this password`), result.stderr);
        assert.match(result.stderr, /every key needs a password of its own/, result.stderr);
        assert.doesNotMatch(result.stderr, USER_MISTAKE_HAS_NO_STACK);
        assert.doesNotMatch(result.stdout, /Added key/);
      }
      assert.deepEqual(await keyLabels(server.env), ['family', 'kids'], 'no key "friends" was added');

      // The password still opens the key it belonged to, and only that key's albums.
      const kids = await loggedIn(server, KIDS_PASSWORD);
      assert.equal((await kids.me()).label, 'kids');
      assert.deepEqual(await albumPaths(kids), ['Kids']);
      assert.equal((await kids.get('/api/albums/Summer%202024')).status, 404, 'friends\' intended album is not opened by it');
      const everyone = await loggedIn(server, family);
      assert.equal((await everyone.me()).label, 'family');
    } finally {
      await server.close();
    }
  });

  it('refuses it through the in-process API too, with code PASSWORD_TAKEN; the password is free again once its key is removed', async () => {
    const server = await startTestServer({ keys: [{ label: 'kids', password: KIDS_PASSWORD, albums: ['Kids'] }] });
    try {
      const attempt = (label: string) => server.services.access.addKey({ label, password: KIDS_PASSWORD, albums: ['*'], canDownloadOriginals: true });
      await assert.rejects(attempt('friends'), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'PASSWORD_TAKEN');
        assert.match(error.message, /"kids"/);
        return true;
      });
      await assert.rejects(
        server.services.access.addKey({ label: 'friends', password: server.firstPassword!, albums: ['*'], canDownloadOriginals: true }),
        { code: 'PASSWORD_TAKEN' },
      );
      assert.deepEqual((await server.services.access.listKeys()).map(({ key }) => key.label).sort(), ['family', 'kids']);

      await server.services.access.removeKey('kids');
      const { key } = await attempt('friends');
      assert.equal(key.label, 'friends');
      const friends = await loggedIn(server, KIDS_PASSWORD);
      assert.equal((await friends.me()).label, 'friends');
    } finally {
      await server.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('passwords stay out of ps and the shell history', () => {
  const GRANDMA = 'grandma knows best, 2024';
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
  });
  const labels = async () => (await server.services.access.listKeys()).map(({ key }) => key.label).sort();

  it('--password-stdin reads the password from a pipe, prints none, and it logs in', async () => {
    const added = await runWithStdin(['key', 'add', 'grandma', '--password-stdin', '--albums', 'Summer 2024'], server.env, `${GRANDMA}\n`);
    assert.equal(added.timedOut, false);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /Added key "grandma": albums Summer 2024; originals allowed/);
    assert.doesNotMatch(added.stdout + added.stderr, /grandma knows best/, 'the password is not echoed');
    assert.doesNotMatch(added.stdout, /shown only this once/, 'no generated password either');
    assert.doesNotMatch(added.stderr, /process list/, 'no warning: nothing showed in ps');

    const grandma = await loggedIn(server, GRANDMA);
    assert.equal((await grandma.me()).label, 'grandma');
    assert.deepEqual(await albumPaths(grandma), ['Summer 2024']);
  });

  it('refuses --password-stdin with nothing on stdin, --prompt without a terminal, and two ways at once; --password warns', async () => {
    const CHOOSE_ONE = /choose one of --prompt, --password-stdin and --password/;
    const refusals: [string, string[], string | null, RegExp][] = [
      ['stdin ended at once', ['key', 'add', 'x1', '--password-stdin'], '', /--password-stdin: expected the password on the first line of standard input, received nothing/],
      // stdin left open: the refusal must come at once, not after waiting for typing.
      ['--prompt on a pipe', ['key', 'add', 'x3', '--prompt'], null, /--prompt needs a terminal.*--password-stdin/],
      ['--prompt and --password-stdin', ['key', 'add', 'x4', '--prompt', '--password-stdin'], 'a second password\n', CHOOSE_ONE],
      ['--password-stdin and --password', ['key', 'add', 'x5', '--password-stdin', '--password', 'a third password'], 'a second password\n', CHOOSE_ONE],
    ];
    const [given, ...results] = await Promise.all([
      runKeepsake(['key', 'add', 'cousins', '--password', 'the cousins password', '--albums', 'Kids'], server.env),
      ...refusals.map(([, args, input]) => runWithStdin(args, server.env, input)),
    ]);
    refusals.forEach(([what, , , message], index) => {
      const result = results[index]!;
      assert.equal(result.timedOut, false, `${what}: keepsake waited for input instead of refusing`);
      assert.notEqual(result.code, 0, what);
      assert.match(result.stderr, message, `${what}: ${result.stderr}`);
      assert.doesNotMatch(result.stderr, USER_MISTAKE_HAS_NO_STACK, what);
      assert.doesNotMatch(result.stdout, /Added key/, what);
    });

    assert.equal(given!.code, 0, given!.stderr);
    assert.match(given!.stdout, /Added key "cousins"/);
    assert.doesNotMatch(given!.stdout, /the cousins password/);
    assert.match(given!.stderr, /--password shows in the process list and the shell history/);
    assert.match(given!.stderr, /--prompt and --password-stdin keep it out/);
    const cousins = await loggedIn(server, 'the cousins password');
    assert.equal((await cousins.me()).label, 'cousins');
    assert.deepEqual(await labels(), ['cousins', 'family', 'grandma'], 'none of the refused ones was added');

    // The rest of what --password-stdin accepts, without a process each: the first line only, CRLF or not.
    const piped = (text: string) => passwordFromStdin(Readable.from([Buffer.from(text)]));
    assert.equal(await piped('one line password\r\nsecond line\n'), 'one line password');
    assert.equal(await piped('no newline at all'), 'no newline at all');
    await assert.rejects(piped('\nsecond line\n'), /received nothing/, 'an empty first line is no password');
  });
});

// ---------------------------------------------------------------------------------------------

describe('the database and the secrets are private to keepsake', () => {
  it('are 0600 (secrets folder 0700) after a start; doctor names every widened one; the next start narrows them', async () => {
    const mediaRoot = await tempDir('keepsake-media-');
    await makeJpeg(path.join(mediaRoot, 'Summer 2024', 'beach.jpg'));
    const first = await startTestServer({ mediaRoot });
    const { stateDir } = first;
    const database = path.join(stateDir, 'keepsake.db');
    const secrets = path.join(stateDir, 'secrets');
    const databaseFiles = async () => {
      const files = [database, `${database}-wal`, `${database}-shm`];
      const present: string[] = [];
      for (const file of files) if ((await modeOf(file)) !== undefined) present.push(file);
      return present;
    };
    const secretFiles = async () => (await readdir(secrets)).map((name) => path.join(secrets, name));
    const expectPrivate = async (when: string) => {
      const files = [...(await databaseFiles()), ...(await secretFiles())];
      const modes = Object.fromEntries(await Promise.all(files.map(async (file) => [path.relative(stateDir, file), octal(await modeOf(file))])));
      assert.deepEqual(modes, Object.fromEntries(files.map((file) => [path.relative(stateDir, file), '600'])), `${when}: file modes`);
      assert.equal(octal(await modeOf(secrets)), '700', `${when}: the secrets folder`);
    };

    try {
      const present = await databaseFiles();
      assert.ok(present.includes(database) && present.includes(`${database}-wal`), `the database runs in WAL mode: ${present.join(', ')}`);
      assert.ok((await secretFiles()).length > 0, 'the first start made its secrets');
      await expectPrivate('after the first start');

      const widened = [...present, ...(await secretFiles())];
      for (const file of widened) await chmod(file, 0o644);
      await chmod(secrets, 0o755);

      const doctor = await runKeepsake(['doctor'], first.env);
      assert.notEqual(doctor.code, 0, 'doctor fails');
      const lines = doctor.stdout.split('\n');
      const readable = lines.findIndex((line) => /^FAIL\s+readable by others: /.test(line));
      assert.ok(readable >= 0, `doctor has a FAIL line for the widened files:\n${doctor.stdout}`);
      const readableLine = lines[readable]!;
      const fixLine = lines[readable + 1] ?? '';
      assert.match(fixLine, /^\s+fix: chmod 600 /);
      for (const file of widened) {
        assert.ok(readableLine.includes(`${file} (644)`), `doctor names ${file} and its mode:\n${readableLine}`);
        assert.ok(fixLine.split(' ').includes(file), `the fix line chmods ${file}:\n${fixLine}`);
      }
      const folder = lines.findIndex((line) => line.startsWith('FAIL') && line.includes(`the secrets folder ${secrets} is open to others (755)`));
      assert.ok(folder >= 0, `doctor has a FAIL line for the secrets folder:\n${doctor.stdout}`);
      assert.equal((lines[folder + 1] ?? '').trim(), `fix: chmod 700 ${secrets}`);
      assert.doesNotMatch(doctor.stdout, /^ok\s+the database and the secrets are readable/m);
    } finally {
      await first.close();
    }

    // Widen whatever is left after a clean shutdown (and whatever doctor put right), then start again.
    for (const file of [...(await databaseFiles()), ...(await secretFiles())]) await chmod(file, 0o644);
    await chmod(secrets, 0o755);
    const second = await startTestServer({ stateDir, mediaRoot });
    try {
      assert.equal(second.firstPassword, undefined, 'the same state: no new first key');
      await expectPrivate('after the next start');
    } finally {
      await second.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('NAS litter is never an album', () => {
  const LITTER_FOLDERS = ['#recycle', '@eaDir', '@Recycle', '$RECYCLE.BIN', 'System Volume Information', 'lost+found'];

  async function litteredMediaRoot(): Promise<string> {
    const root = await tempDir('keepsake-media-');
    const at = (relative: string) => path.join(root, ...relative.split('/'));
    await makeJpeg(at('Summer 2024/beach.jpg'), { colour: '#d0a040' });
    await makeJpeg(at('#recycle/old.jpg'));
    // Synology's layout: a folder named like the photo, holding its thumbnails.
    await makeJpeg(at('@eaDir/beach.jpg/SYNOPHOTO_THUMB_M.jpg'));
    await makeJpeg(at('Summer 2024/@eaDir/x.jpg'));
    await makeJpeg(at('Summer 2024/@eaDir/beach.jpg/SYNOPHOTO_THUMB_XL.jpg'));
    await makeJpeg(at('@Recycle/y.jpg'));
    await makeJpeg(at('$RECYCLE.BIN/z.jpg'));
    await makeJpeg(at('System Volume Information/a.jpg'));
    await makeJpeg(at('lost+found/b.jpg'));
    await writeFile(at('Summer 2024/Thumbs.db'), Buffer.alloc(512, 1));
    await writeFile(at('Summer 2024/._beach.jpg'), Buffer.from('\x00\x05\x16\x07 AppleDouble resource fork'));
    await writeFile(at('Summer 2024/.DS_Store'), Buffer.alloc(64, 0));
    return root;
  }

  it('lists only the real album and photo, and serves none of the litter', async () => {
    const server = await startTestServer({ mediaRoot: await litteredMediaRoot() });
    try {
      const family = await loggedIn(server, server.firstPassword!);
      assert.deepEqual(await albumPaths(family), ['Summer 2024']);
      assert.deepEqual(await albumPaths(family, 'Summer 2024'), [], 'Summer 2024/@eaDir is not a sub-album');
      assert.deepEqual(await itemNames(family, 'Summer 2024'), ['beach.jpg']);
      for (const folder of [...LITTER_FOLDERS, 'Summer 2024/@eaDir', '@eaDir/beach.jpg']) {
        assert.equal((await family.get(`/api/albums/${folder.split('/').map(encodeURIComponent).join('/')}`)).status, 404, `${folder} is no album`);
      }
      const { token } = await family.me();
      const original = (relative: string) => `/${token}/original/${relative.split('/').map(encodeURIComponent).join('/')}`;
      assert.equal((await family.get(original('Summer 2024/beach.jpg'))).status, 200, 'the real photo is served');
      for (const litter of ['Summer 2024/@eaDir/x.jpg', 'Summer 2024/@eaDir/beach.jpg/SYNOPHOTO_THUMB_XL.jpg', 'Summer 2024/._beach.jpg', '#recycle/old.jpg', '@eaDir/beach.jpg/SYNOPHOTO_THUMB_M.jpg']) {
        assert.equal((await family.get(original(litter))).status, 404, `${litter} is not served`);
      }
      const everything = JSON.stringify([...server.services.library.albumPaths()]);
      for (const folder of LITTER_FOLDERS) assert.ok(!everything.includes(folder), `the catalogue has no ${folder}: ${everything}`);
    } finally {
      await server.close();
    }
  });

  it('does not pick up litter dropped while it runs, not even for a moment', async () => {
    const server = await startTestServer({ mediaRoot: await litteredMediaRoot() });
    try {
      const family = await loggedIn(server, server.firstPassword!);
      const at = (relative: string) => path.join(server.mediaRoot, ...relative.split('/'));
      const dropped = [
        '#recycle/new.jpg',
        'Summer 2024/@eaDir/new.jpg',
        'Summer 2024/@eaDir/fresh.jpg/SYNOPHOTO_THUMB_S.jpg',
        '#snapshot/Summer 2024/beach.jpg',
        'Summer 2024/#recycle/deleted.jpg',
        'Summer 2024/@Recycle/gone.jpg',
      ];
      // Watch what the family would see the whole time, not only at the end: a litter album that
      // shows for a second (until a rescan drops it again) has still been shown.
      const seen = new Set<string>();
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          for (const album of server.services.library.albumPaths()) if (album !== 'Summer 2024') seen.add(`album ${album}`);
          for (const relative of dropped) {
            const slash = relative.lastIndexOf('/');
            if (server.services.library.item(relative.slice(0, slash), relative.slice(slash + 1)) !== undefined) seen.add(`item ${relative}`);
          }
          for (const album of await albumPaths(family)) if (album !== 'Summer 2024') seen.add(`listed ${album}`);
          for (const name of await itemNames(family, 'Summer 2024')) if (name !== 'beach.jpg' && name !== 'fresh.jpg') seen.add(`listed Summer 2024/${name}`);
          await sleep(50);
        }
      })();
      try {
        for (const relative of dropped) await makeJpeg(at(relative));
        await writeFile(at('Summer 2024/Thumbs.db'), Buffer.alloc(1024, 2));
        // The control: a real photo dropped after the litter. Once it shows, the watcher has looked.
        await makeJpeg(at('Summer 2024/fresh.jpg'));
        await waitUntil(async () => (await itemNames(family, 'Summer 2024')).includes('fresh.jpg'), 15_000, 'the watcher to catalogue fresh.jpg');
        // Past the write-settle time and a folder rescan, in case the litter's events came later.
        await sleep(3_000);
      } finally {
        sampling = false;
        await sampler;
      }
      assert.deepEqual([...seen], [], 'litter showed while the server ran');
      assert.deepEqual(await albumPaths(family), ['Summer 2024']);
      assert.deepEqual(await albumPaths(family, 'Summer 2024'), []);
      assert.deepEqual((await itemNames(family, 'Summer 2024')).sort(), ['beach.jpg', 'fresh.jpg']);
    } finally {
      await server.close();
    }
  });

  it('takes its list from KEEPSAKE_IGNORED_NAMES, which replaces the default one', async () => {
    const root = await litteredMediaRoot();
    await makeJpeg(path.join(root, 'Private stuff', 'p.jpg'));
    await makeJpeg(path.join(root, 'private too', 'q.jpg'));
    const server = await startTestServer({ mediaRoot: root, env: { KEEPSAKE_IGNORED_NAMES: 'Private*' } });
    try {
      const family = await loggedIn(server, server.firstPassword!);
      const top = await albumPaths(family);
      assert.ok(!top.includes('Private stuff') && !top.includes('private too'), `'Private*' is ignored, whatever the case: ${top.join(', ')}`);
      assert.equal((await family.get('/api/albums/Private%20stuff')).status, 404);
      // The default list no longer applies: the recycle bin is an album like any other folder.
      assert.ok(top.includes('#recycle') && top.includes('Summer 2024'), `albums: ${top.join(', ')}`);
      assert.deepEqual(await itemNames(family, '#recycle'), ['old.jpg']);
      assert.ok((await albumPaths(family, 'Summer 2024')).includes('Summer 2024/@eaDir'));
    } finally {
      await server.close();
    }
  });

  it('stops start-up on a bad KEEPSAKE_IGNORED_NAMES with a line naming it', async () => {
    const mediaRoot = await tempDir('keepsake-media-');
    const stateDir = await tempDir('keepsake-state-');
    const env = { KEEPSAKE_MEDIA_ROOT: mediaRoot, KEEPSAKE_STATE_DIR: stateDir, KEEPSAKE_HOST: '127.0.0.1', KEEPSAKE_PORT: '0' };
    for (const bad of ['a/b', 'photos\\raw', '*']) {
      assert.throws(
        () => loadSettings({ ...env, KEEPSAKE_IGNORED_NAMES: bad }, stateDir),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, `${bad}: a ConfigError`);
          assert.equal(error.problems.length, 1);
          assert.match(error.problems[0]!, /^Invalid setting KEEPSAKE_IGNORED_NAMES: .* is not a name; expected a comma-separated list/);
          assert.ok(error.problems[0]!.includes(JSON.stringify(bad)), `names the value ${bad}: ${error.problems[0]}`);
          return true;
        },
      );
    }
    assert.deepEqual(loadSettings({ ...env, KEEPSAKE_IGNORED_NAMES: ' #recycle , @eaDir ,' }, stateDir).ignoredNames, ['#recycle', '@eaDir']);

    const serve = await runWithStdin(['serve'], { ...env, KEEPSAKE_IGNORED_NAMES: 'a/b' }, '');
    assert.equal(serve.timedOut, false, 'keepsake serve did not stop');
    assert.equal(serve.code, 2);
    assert.equal(serve.stderr.trim().split('\n').length, 1, serve.stderr);
    assert.match(serve.stderr, /^keepsake: Invalid setting KEEPSAKE_IGNORED_NAMES: "a\/b" is not a name/);
    assert.doesNotMatch(serve.stdout, /running at/);
  });
});
