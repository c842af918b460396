import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { keepsakeArgs, REPO_ROOT, runKeepsake, type CliResult } from './helpers/cli.js';
import { makeMediaRoot, tempDir } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/*
 * What the command line makes of its arguments: a grant that is given must say something (an
 * empty one never means "every album"), durations carry their unit, dates are real dates, and a
 * mistake is one line on standard error, never a stack trace and never half a change.
 */

async function adminEnv(): Promise<Record<string, string>> {
  const mediaRoot = await tempDir('keepsake-media-');
  await makeMediaRoot(mediaRoot);
  return { KEEPSAKE_MEDIA_ROOT: mediaRoot, KEEPSAKE_STATE_DIR: await tempDir('keepsake-state-') };
}

function assertOneLineRefusal(result: CliResult, message: RegExp, what: string): void {
  assert.equal(result.code, 2, `${what}: exit code (stdout: ${result.stdout})`);
  assert.doesNotMatch(result.stderr, /\n\s+at /, `${what}: no stack trace`);
  assert.equal(result.stderr.trimEnd().split('\n').length, 1, `${what}: one line, got:\n${result.stderr}`);
  assert.match(result.stderr, /^keepsake: /, what);
  assert.match(result.stderr, message, what);
}

/** Runs every case at once (none changes anything) and checks each is one clear refusal. */
async function assertRefused(env: Record<string, string>, cases: readonly (readonly [string[], RegExp])[]): Promise<void> {
  const results = await Promise.all(cases.map(([args]) => runKeepsake(args, env)));
  for (const [index, [args, message]] of cases.entries()) assertOneLineRefusal(results[index]!, message, args.join(' '));
}

describe('keepsake album grants on the command line', () => {
  it('refuses a grant that is given but empty, and makes no key or device', async () => {
    const env = await adminEnv();
    await assertRefused(env, [
      [['key', 'add', 'f1', '--albums', ''], /--albums "": expected album names or patterns \(use '\*' for every album\)/],
      [['key', 'add', 'f1', '--albums', ',,'], /--albums ",,": expected album names or patterns/],
      [['key', 'add', 'f1', '--albums', ' , '], /--albums " , ": expected album names or patterns/],
      [['key', 'add', 'f1', '--album', ''], /--album "": expected an album name or pattern/],
      [['key', 'add', 'f1', '--album', 'Summer 2024', '--album', ''], /--album "": expected an album name or pattern/],
      [['device', 'add', 'Tablet', '--albums', ''], /--albums "": expected album names or patterns/],
      [['device', 'add', 'Tablet', '--album', ' '], /--album " ": expected an album name or pattern/],
    ]);
    const keys = await runKeepsake(['key', 'list'], env);
    assert.match(keys.stdout, /^No keys\./m);
    const devices = await runKeepsake(['device', 'list'], env);
    assert.match(devices.stdout, /^No named devices\./m);
  });

  it('keeps every album as the default when no grant is given', async () => {
    const env = await adminEnv();
    const added = await runKeepsake(['key', 'add', 'everyone'], env);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /Added key "everyone": albums \*;/);
    assert.doesNotMatch(added.stderr, /no album matches/);
  });
});

describe('keepsake on originals and places', () => {
  it('says in one line that originals carry their GPS when a key, device or share may download them but is told no exact places', async () => {
    const env = await adminEnv();
    const note = /^keepsake: warning: .* may download originals, the camera's own files with their GPS; its places stay (none|city) only in the gallery\. Add --no-originals/;
    for (const args of [['key', 'add', 'plain'], ['key', 'add', 'town', '--location', 'city'], ['device', 'add', 'Tablet']]) {
      const made = await runKeepsake(args, env);
      assert.equal(made.code, 0, made.stderr);
      assert.match(made.stderr.trim(), note, args.join(' '));
      assert.equal(made.stderr.trim().split('\n').length, 1, `one line: ${made.stderr}`);
    }
    for (const args of [['key', 'add', 'quiet', '--no-originals'], ['key', 'add', 'home', '--location', 'exact', '--household'], ['device', 'add', 'Frame', '--no-originals']]) {
      const made = await runKeepsake(args, env);
      assert.equal(made.code, 0, made.stderr);
      assert.doesNotMatch(made.stderr, /may download originals/, args.join(' '));
    }
    const hex = await runKeepsake(['share', 'Summer 2024', '--ttl', '1h', '--uses', '0x10'], env);
    assert.equal(hex.code, 2);
    assert.match(hex.stderr.trim(), /^keepsake: --uses "0x10": expected a whole number of at least 1$/);
  });
});

describe('keepsake durations and dates', () => {
  it('refuses bare numbers, impossible dates and negative durations, in one line each', async () => {
    const env = await adminEnv();
    await assertRefused(env, [
      [['key', 'add', 'x', '--expires', '30'], /--expires "30": expected a date such as 2027-01-01 or a duration with its unit, such as 30d/],
      [['key', 'add', 'x', '--expires', '2027'], /--expires "2027": expected a date/],
      [['key', 'add', 'x', '--expires', '2027-02-30'], /--expires "2027-02-30": there is no such date/],
      [['key', 'add', 'x', '--expires', '2099-13-01'], /--expires "2099-13-01": there is no such date/],
      [['key', 'add', 'x', '--expires', '2099-01-01T25:00:00Z'], /--expires "2099-01-01T25:00:00Z": expected a date/],
      [['key', 'add', 'x', '--expires', 'next week'], /--expires "next week": expected a date/],
      [['key', 'add', 'x', '--expires=-5d'], /--expires "-5d": a duration cannot be negative/],
      [['device', 'add', 'Tablet', '--expires', '30'], /--expires "30": expected a date/],
      [['device', 'add', 'Tablet', '--valid', '7'], /--valid "7": expected a duration with its unit, of at least 1m, such as 24h or 7d/],
      [['device', 'add', 'Tablet', '--valid', '30s'], /--valid "30s": expected a duration with its unit, of at least 1m/],
      [['share', 'Summer 2024', '--ttl', '30'], /--ttl "30": expected a duration with its unit, of at least 1m, such as 24h or 7d/],
      [['share', 'Summer 2024', '--ttl=-1h'], /--ttl "-1h": a duration cannot be negative/],
      [['stats', '--since', '5'], /--since "5": expected a duration with its unit/],
    ]);
  });

  it('refuses a time in the past', async () => {
    const env = await adminEnv();
    const past = await runKeepsake(['key', 'add', 'x', '--expires', '2001-01-01'], env);
    assert.notEqual(past.code, 0);
    assert.match(past.stderr, /--expires "2001-01-01".*in the future/);
    assert.doesNotMatch(past.stderr, /\n\s+at /);
  });

  it('accepts a duration with its unit, a calendar date and a full ISO date-time', async () => {
    const env = await adminEnv();
    const before = Date.now();
    const cases: [string, (expiresAt: number) => boolean][] = [
      ['30d', (at) => Math.abs(at - (before + 30 * 86_400_000)) < 120_000],
      ['12h', (at) => Math.abs(at - (before + 12 * 3_600_000)) < 120_000],
      ['2w', (at) => Math.abs(at - (before + 14 * 86_400_000)) < 120_000],
      ['2099-02-28', (at) => at === Date.UTC(2099, 1, 28)],
      ['2096-02-29', (at) => at === Date.UTC(2096, 1, 29)],
      ['2099-06-01T12:30:00Z', (at) => at === Date.UTC(2099, 5, 1, 12, 30)],
      ['2099-06-01T12:30:00+02:00', (at) => at === Date.UTC(2099, 5, 1, 10, 30)],
    ];
    for (const [index, [expires, expected]] of cases.entries()) {
      const added = await runKeepsake(['key', 'add', `k${index}`, '--expires', expires], env);
      assert.equal(added.code, 0, `${expires}: ${added.stderr}`);
      const iso = /; expires (\S+)\.$/m.exec(added.stdout)?.[1];
      assert.ok(iso, added.stdout);
      assert.ok(expected(Date.parse(iso)), `--expires ${expires} gave ${iso}`);
    }
  });
});

describe('keepsake option values that are missing or start with a dash', () => {
  it('says what is wrong in one line, never a stack trace', async () => {
    const env = await adminEnv();
    await assertRefused(env, [
      [['key', 'add', 'x', '--location'], /--location needs a value/],
      [['key', 'add', 'x', '--expires'], /--expires needs a value/],
      [['key', 'add', 'x', '--albums', '--no-originals'], /--albums needs a value, got the option "--no-originals"/],
      [['key', 'add', 'x', '--expires', '-5d'], /--expires "-5d": negative values are not allowed \(a value that really starts with "-" is written --expires=-5d\)/],
      [['share', 'Summer 2024', '--ttl', '-1h'], /--ttl "-1h": negative values are not allowed/],
      [['share', 'Summer 2024', '--ttl', '1h', '--uses', '-3'], /--uses "-3": negative values are not allowed/],
      [['device', 'add', 'Tablet', '--png'], /--png needs a value/],
      [['key', 'add', 'x', '--household=yes'], /--household takes no value/],
      [['key', 'add', 'x', '--colour', 'blue'], /unknown option --colour/],
      [['key', 'add', 'x', '-z'], /unknown option -z/],
      [['stats', 'extra'], /unexpected argument "extra"/],
    ]);
  });

  it('asks for --ttl by name when it is left out', async () => {
    const env = await adminEnv();
    await assertRefused(env, [[['share', 'Summer 2024'], /--ttl is required \(e\.g\. --ttl 24h\)/]]);
  });
});

describe('keepsake device add --png', () => {
  it('checks the PNG can be written before adding the device, so a retry works', async () => {
    const env = await adminEnv();
    const folder = await tempDir('keepsake-card-');
    const aFile = path.join(folder, 'not-a-folder');
    await writeFile(aFile, 'x');
    await assertRefused(env, [
      [['device', 'add', 'Kitchen tablet', '--png', '/nonexistent/card.png'], /--png "\/nonexistent\/card\.png": the folder \/nonexistent does not exist/],
      [['device', 'add', 'Kitchen tablet', '--png', path.join(aFile, 'card.png')], /--png ".*": .*not-a-folder is not a folder/],
      [['device', 'add', 'Kitchen tablet', '--png', folder], /--png ".*": it is a folder; expected a file name such as card\.png/],
    ]);
    const listed = await runKeepsake(['device', 'list'], env);
    assert.match(listed.stdout, /^No named devices\./m, 'nothing was added');

    const png = path.join(folder, 'card.png');
    const made = await runKeepsake(['device', 'add', 'Kitchen tablet', '--png', png], env);
    assert.equal(made.code, 0, made.stderr);
    assert.deepEqual([...(await readFile(png)).subarray(1, 4)], [...Buffer.from('PNG')]);
  });

  it('removes the device again when the PNG cannot be written after all, and says so in one line', async () => {
    const env = await adminEnv();
    // The folder is there and writable, but a name this long leaves no room for the temporary name beside it.
    const png = path.join(await tempDir('keepsake-card-'), `${'c'.repeat(240)}.png`);
    const made = await runKeepsake(['device', 'add', 'Kitchen tablet', '--png', png], env);
    assert.equal(made.code, 1, made.stderr);
    assert.doesNotMatch(made.stderr, /\n\s+at /);
    assert.equal(made.stderr.trimEnd().split('\n').length, 1, made.stderr);
    assert.match(made.stderr, /--png ".*": could not write it \(ENAMETOOLONG\); the device "Kitchen tablet" was not added/);
    assert.doesNotMatch(made.stdout, /\/enrol\//, 'no link to a device that is not there');
    const listed = await runKeepsake(['device', 'list'], env);
    assert.match(listed.stdout, /^No named devices\./m);
  });
});

describe('keepsake with a catalogue', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server?.close());

  it('warns in one line when a grant matches no album now, and still makes the key or device', async () => {
    const key = await runKeepsake(['key', 'add', 'later', '--albums', 'Nope,Summer 2024', '--album', 'Kids/*', '--no-originals'], server.env);
    assert.equal(key.code, 0, key.stderr);
    assert.equal(key.stderr.trimEnd().split('\n').length, 1, key.stderr);
    assert.match(key.stderr, /^keepsake: warning: no album matches "Nope" now/);
    assert.match(key.stdout, /Added key "later": albums Nope, Summer 2024, Kids\/\*/);

    const device = await runKeepsake(['device', 'add', 'Hall tablet', '--album', 'Holidays/*', '--no-originals'], server.env);
    assert.equal(device.code, 0, device.stderr);
    assert.match(device.stderr, /^keepsake: warning: no album matches "Holidays\/\*" now/);

    const matching = await runKeepsake(['key', 'add', 'summer', '--albums', 'Summer 2024/Day Two,Kids/*', '--no-originals'], server.env);
    assert.equal(matching.code, 0, matching.stderr);
    assert.equal(matching.stderr, '', 'no warning when every pattern matches');

    const share = await runKeepsake(['share', 'Nope', '--ttl', '1h'], server.env);
    assert.notEqual(share.code, 0);
    assert.match(share.stderr, /no album "Nope"/);
  });

  it('says so for a share link that may download originals, and not for one that may not', async () => {
    const open = await runKeepsake(['share', 'Summer 2024', '--ttl', '1h'], server.env);
    assert.equal(open.code, 0, open.stderr);
    assert.match(open.stderr.trim(), /^keepsake: warning: this share link may download originals, the camera's own files with their GPS; its places stay none only in the gallery\. Add --no-originals/);
    const closed = await runKeepsake(['share', 'Summer 2024', '--ttl', '1h', '--no-originals'], server.env);
    assert.equal(closed.code, 0, closed.stderr);
    assert.equal(closed.stderr, '');
  });

  it('ends quietly when standard output is closed, with the work done', async () => {
    const child = spawn(process.execPath, keepsakeArgs(['share', 'Summer 2024', '--ttl', '1h', '--no-originals']), {
      cwd: REPO_ROOT,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...server.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // As `| head -0` would: the reader is gone before keepsake writes a line.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(stderr, '', 'nothing on standard error');
    assert.equal(code, 0);
    const listed = await runKeepsake(['share', 'list'], server.env);
    assert.match(listed.stdout, /Summer 2024/, 'the share link was made');
  });
});
