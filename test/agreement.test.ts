import assert from 'node:assert/strict';
import { readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { BROWSER_HEADERS, Client, cookieHeader } from './helpers/client.js';
import { runKeepsake } from './helpers/cli.js';
import { makeJpeg, tempDir } from './helpers/fixtures.js';
import { makeRaw } from './helpers/raws.js';
import { makeVideo, VIDEO_TOOLS_MISSING } from './helpers/videos.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import {
  APACHE_MISSING,
  apacheFor,
  LIGHTTPD_MISSING,
  lighttpdFor,
  NGINX_MISSING,
  nginxFor,
  raw,
  type Answer,
  type RunningWebServer,
} from './helpers/web-servers.js';

/*
 * One table of media requests and the status the contract (shared/DESIGN.md: the HTTP contract
 * and invariants 2, 3, 7, 8 and 9) gives each, asked of keepsake alone and of every real web
 * server in front of it with keepsake's generated configuration. Every server must give the
 * table's answer on every row; a disagreement names the server, the row and both answers.
 *
 * The table is generated: clients × files × variants, each expectation computed from what the
 * client's key grants and what kind of file the case is, plus a few guard rows (HEAD and Range
 * on images are refused with 403 before any lookup, by keepsake and every server alike).
 */

const PASSWORDS = { everyone: 'agreement everyone password', viewer: 'agreement look but no download', kids: 'agreement only the kids' } as const;
const NOT_FOUND = 'Not Found\n';
const FORBIDDEN = 'Forbidden\n';

type ClientName = 'everyone' | 'viewer' | 'kids' | 'share' | 'stranger';
type Variant = 'original' | 'video' | 'playable' | 'thumb' | 'large';
/** With ffmpeg, every readable video has a playable copy without metadata, and the video as recorded is an original. */
const COPIES = VIDEO_TOOLS_MISSING === undefined || Boolean(process.env['CI']);
const VARIANTS: readonly Variant[] = ['original', 'video', ...(COPIES ? (['playable'] as const) : []), 'thumb', 'large'];
const DERIVATIVES: readonly Variant[] = ['playable', 'thumb', 'large'];

/** Who asks, and what the contract lets them have (written out here, not read from keepsake). */
interface Asker {
  readonly name: ClientName;
  readonly originals: boolean;
  readonly grants: (album: string) => boolean;
}
const within = (root: string) => (album: string) => album === root || album.startsWith(`${root}/`);
const ASKERS: readonly Asker[] = [
  { name: 'everyone', originals: true, grants: () => true }, // albums ['*']
  { name: 'viewer', originals: false, grants: () => true }, // ['*'], canDownloadOriginals: false
  { name: 'kids', originals: true, grants: (album) => album.startsWith('Kids/') }, // ['Kids/*']: not Kids itself
  { name: 'share', originals: false, grants: within('Summer 2024') }, // a share link of Summer 2024, --no-originals
  { name: 'stranger', originals: false, grants: () => false }, // no cookies, everyone's URLs
];

/**
 * One file a URL may name. `kind` is what a correct server makes of it: an image or a video it
 * serves where granted, or `never` (hidden, not media, a link out of the media root, a link
 * into another album) that it serves to no one under any variant.
 */
interface Case {
  readonly album: string;
  readonly name: string;
  readonly kind: 'image' | 'video' | 'never';
  /** A video ffprobe can read: its derivatives are posters, served like a photo's. */
  readonly poster?: boolean;
  /** Where the bytes really are, relative to the media root (or absolute): what stat and a 200 must match. */
  readonly source: string;
}
const ALL_CASES: readonly Case[] = [
  { album: 'Summer 2024', name: 'beach.jpg', kind: 'image', source: 'Summer 2024/beach.jpg' },
  { album: 'Summer 2024/Day Two', name: 'pier.jpg', kind: 'image', source: 'Summer 2024/Day Two/pier.jpg' },
  { album: 'Summer 2024', name: 'camera.DNG', kind: 'image', source: 'Summer 2024/camera.DNG' }, // a RAW: derivatives of its preview
  { album: 'Summer 2024', name: 'same-album.jpg', kind: 'image', source: 'Summer 2024/beach.jpg' }, // a link within its album
  { album: 'Summer 2024', name: 'clip.mp4', kind: 'video', source: 'Summer 2024/clip.mp4' }, // no video inside: no poster
  { album: 'Summer 2024', name: 'movie.mp4', kind: 'video', poster: true, source: 'Summer 2024/movie.mp4' },
  { album: 'Private', name: 'passport.jpg', kind: 'image', source: 'Private/passport.jpg' }, // what the crossing links lead to
  { album: 'Kids/Alice', name: 'alice-1.jpg', kind: 'image', source: 'Kids/Alice/alice-1.jpg' },
  { album: 'Kids', name: 'loose.jpg', kind: 'image', source: 'Kids/loose.jpg' },
  { album: 'Summer 2024', name: '.dotfile.jpg', kind: 'never', source: 'Summer 2024/.dotfile.jpg' },
  { album: '.hidden', name: 'secret.jpg', kind: 'never', source: '.hidden/secret.jpg' },
  { album: 'Summer 2024', name: 'notes.txt', kind: 'never', source: 'Summer 2024/notes.txt' },
  { album: 'Summer 2024/etc', name: 'passwd', kind: 'never', source: '/etc/passwd' }, // a folder link out of the root
  { album: 'Summer 2024', name: 'passwd.jpg', kind: 'never', source: '/etc/passwd' }, // a file link out of the root
  { album: 'Summer 2024/more', name: 'passport.jpg', kind: 'never', source: 'Private/passport.jpg' }, // folder link into Private
  { album: 'Summer 2024', name: 'crossing.jpg', kind: 'never', source: 'Private/passport.jpg' }, // file link into Private
  { album: 'Kids/Evil', name: 'passport.jpg', kind: 'never', source: 'Private/passport.jpg' }, // folder link into Private
  { album: 'Summer 2024/#recycle', name: 'deleted.jpg', kind: 'never', source: 'Summer 2024/#recycle/deleted.jpg' }, // a NAS's recycle bin
  { album: 'Summer 2024/@eaDir/beach.jpg', name: 'SYNOPHOTO_THUMB_M.jpg', kind: 'never', source: 'Summer 2024/@eaDir/beach.jpg/SYNOPHOTO_THUMB_M.jpg' }, // a NAS's own thumbnails
];
/** The readable video needs ffmpeg to be made and probed: left out locally without it, never in CI. */
const CASES = ALL_CASES.filter((file) => file.poster !== true || VIDEO_TOOLS_MISSING === undefined || process.env['CI']);
/** Folders that are no album for anyone: hidden, a link out of the root, links into another album, NAS litter. */
const NEVER_ALBUMS = ['.hidden', 'Summer 2024/etc', 'Summer 2024/more', 'Kids/Evil', 'Summer 2024/#recycle', 'Summer 2024/@eaDir'];

async function makeAgreementMediaRoot(root: string): Promise<void> {
  await makeJpeg(path.join(root, 'Summer 2024', 'beach.jpg'), { colour: '#d0a040' });
  await makeJpeg(path.join(root, 'Summer 2024', 'Day Two', 'pier.jpg'), { colour: '#4080c0' });
  await writeFile(path.join(root, 'Summer 2024', 'clip.mp4'), Buffer.alloc(64 * 1024, 7)); // not a video ffprobe can read
  await makeRaw(path.join(root, 'Summer 2024', 'camera.DNG'), { kind: 'dng', colour: '#40a0c0' });
  if (CASES.some((file) => file.poster === true)) await makeVideo(path.join(root, 'Summer 2024', 'movie.mp4'), { colour: '0x40a060' });
  await makeJpeg(path.join(root, 'Summer 2024', '.dotfile.jpg'));
  await writeFile(path.join(root, 'Summer 2024', 'notes.txt'), 'not media\n');
  await symlink('/etc', path.join(root, 'Summer 2024', 'etc'));
  await symlink('/etc/passwd', path.join(root, 'Summer 2024', 'passwd.jpg'));
  await symlink('beach.jpg', path.join(root, 'Summer 2024', 'same-album.jpg'));
  await symlink('../Private', path.join(root, 'Summer 2024', 'more'));
  await symlink('../Private/passport.jpg', path.join(root, 'Summer 2024', 'crossing.jpg'));
  await makeJpeg(path.join(root, 'Private', 'passport.jpg'), { colour: '#802020' });
  await makeJpeg(path.join(root, 'Kids', 'Alice', 'alice-1.jpg'), { colour: '#c040a0' });
  await makeJpeg(path.join(root, 'Kids', 'loose.jpg'));
  await symlink('../Private', path.join(root, 'Kids', 'Evil'));
  await makeJpeg(path.join(root, '.hidden', 'secret.jpg'));
  await makeJpeg(path.join(root, 'Summer 2024', '#recycle', 'deleted.jpg'), { colour: '#205020' });
  await makeJpeg(path.join(root, 'Summer 2024', '@eaDir', 'beach.jpg', 'SYNOPHOTO_THUMB_M.jpg'));
}

/** One request of the table and the answer the contract gives it. */
interface Row {
  readonly asker: ClientName;
  readonly variant: Variant;
  readonly file: Case;
  readonly method: 'GET' | 'HEAD';
  readonly range?: string | undefined;
  readonly expected: number;
}

function expectedStatus(asker: Asker, file: Case, variant: Variant): number {
  if (file.kind === 'never' || !asker.grants(file.album)) return 404;
  switch (variant) {
    case 'original':
      return asker.originals ? 200 : 404; // invariant 8: original/ only for keys that allow originals
    case 'video':
      if (file.kind !== 'video') return 404; // invariant 8: video/ only videos
      return !COPIES || asker.originals ? 200 : 404; // as recorded (GPS and all): an original where copies are made
    case 'playable':
      return file.kind === 'video' && file.poster === true ? 200 : 404; // copies of readable videos, for everyone granted
    default:
      return file.kind === 'image' || file.poster === true ? 200 : 404; // derivatives of images, and posters of readable videos
  }
}

function caseOf(album: string, name: string): Case {
  const found = CASES.find((file) => file.album === album && file.name === name);
  if (found === undefined) throw new Error(`no case ${album}/${name}`);
  return found;
}

/** The whole table: the matrix, then the guard rows. */
function buildTable(): Row[] {
  const rows: Row[] = [];
  for (const asker of ASKERS) {
    for (const file of CASES) {
      for (const variant of VARIANTS) rows.push({ asker: asker.name, variant, file, method: 'GET', expected: expectedStatus(asker, file, variant) });
    }
  }
  // Refused before any lookup, whoever asks and whatever the file: keepsake's guard and every server's rules.
  const probed: [Variant, Case][] = [
    ['original', caseOf('Summer 2024', 'beach.jpg')],
    ['thumb', caseOf('Summer 2024', 'beach.jpg')],
    ['original', caseOf('Summer 2024', 'passwd.jpg')],
  ];
  for (const asker of ['everyone', 'stranger'] as const) {
    for (const [variant, file] of probed) {
      rows.push({ asker, variant, file, method: 'HEAD', expected: 403 });
      rows.push({ asker, variant, file, method: 'GET', range: 'bytes=0-99', expected: 403 });
    }
  }
  // Video players need Range: a slice for those who may see the video, the same 404 for the rest.
  const clip = caseOf('Summer 2024', 'clip.mp4');
  for (const asker of ASKERS) {
    const whole = expectedStatus(asker, clip, 'video');
    rows.push({ asker: asker.name, variant: 'video', file: clip, method: 'GET', range: 'bytes=0-99', expected: whole === 200 ? 206 : whole });
  }
  const movie = CASES.find((file) => file.poster === true);
  for (const asker of COPIES && movie !== undefined ? ASKERS : []) {
    const whole = expectedStatus(asker, movie!, 'playable');
    rows.push({ asker: asker.name, variant: 'playable', file: movie!, method: 'GET', range: 'bytes=0-99', expected: whole === 200 ? 206 : whole });
  }
  return rows;
}

const TABLE = buildTable();

function describeRow(row: Row): string {
  const how = row.method === 'HEAD' ? 'HEAD ' : row.range !== undefined ? `Range ${row.range} ` : '';
  return `${row.asker} ${how}${row.variant} ${row.file.album}/${row.file.name}`;
}

const encodePath = (...parts: string[]) => parts.flatMap((part) => part.split('/')).map(encodeURIComponent).join('/');

/** A front: keepsake itself, or a real server in front of one of the two test keepsakes. */
interface Front {
  readonly name: string;
  /** Why it cannot run here (its binary is missing), else undefined. */
  readonly missing: string | undefined;
  readonly keepsake: 'plain' | 'accel';
  readonly start: (server: TestServer) => Promise<RunningWebServer>;
}
const FRONTS: readonly Front[] = [
  { name: 'keepsake alone', missing: undefined, keepsake: 'plain', start: async (server) => ({ url: server.url, dir: server.stateDir, stop: async () => undefined }) },
  { name: 'nginx (static)', missing: NGINX_MISSING, keepsake: 'plain', start: (server) => nginxFor(server) },
  { name: 'nginx (X-Accel)', missing: NGINX_MISSING, keepsake: 'accel', start: (server) => nginxFor(server, { accel: true }) },
  { name: 'lighttpd', missing: LIGHTTPD_MISSING, keepsake: 'plain', start: (server) => lighttpdFor(server) },
  { name: 'Apache', missing: APACHE_MISSING, keepsake: 'plain', start: (server) => apacheFor(server) },
];

type Listing = { albums: { path: string }[]; items: { name: string; urls: Record<string, string> }[] };

/** Runs `work` over `items`, `limit` at a time, keeping the order of the results. */
async function pool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (let index = next++; index < items.length; index = next++) results[index] = await work(items[index]!);
  });
  await Promise.all(lanes);
  return results;
}

describe('keepsake and every server in front of it answer media requests alike', () => {
  let mediaRoot: string;
  const keepsakes: Partial<Record<Front['keepsake'], TestServer>> = {};
  const sharePaths: Partial<Record<Front['keepsake'], string>> = {};
  const running = new Map<string, RunningWebServer | Error>();
  const sources = new Map<string, Buffer>();

  before(async () => {
    mediaRoot = await tempDir('keepsake-media-');
    await makeAgreementMediaRoot(mediaRoot);
    const keys = [
      { label: 'everyone', password: PASSWORDS.everyone },
      { label: 'viewer', password: PASSWORDS.viewer, canDownloadOriginals: false },
      { label: 'kids', password: PASSWORDS.kids, albums: ['Kids/*'] },
    ];
    const [plain, accel] = await Promise.all([
      startTestServer({ mediaRoot, keys, env: { KEEPSAKE_TRUST_PROXY: '127.0.0.1' } }),
      startTestServer({ mediaRoot, keys, env: { KEEPSAKE_TRUST_PROXY: '127.0.0.1', KEEPSAKE_ACCEL: 'nginx' } }),
    ]);
    Object.assign(keepsakes, { plain, accel });
    await Promise.all(
      (['plain', 'accel'] as const).map(async (which) => {
        const printed = await runKeepsake(['share', 'Summer 2024', '--ttl', '1h', '--no-originals'], keepsakes[which]!.env);
        assert.equal(printed.code, 0, printed.stdout + printed.stderr);
        const sharePath = /\/s\/\S+/.exec(printed.stdout)?.[0];
        assert.ok(sharePath !== undefined, printed.stdout);
        sharePaths[which] = sharePath;
      }),
    );
    // One at a time: each takes a free port just before it binds it.
    for (const front of FRONTS.filter((candidate) => candidate.missing === undefined)) {
      running.set(front.name, await front.start(keepsakes[front.keepsake]!).catch((error: Error) => error));
    }
    for (const file of CASES) sources.set(file.source, await readFile(path.resolve(mediaRoot, file.source)));
  });

  after(async () => {
    await Promise.all([...running.values()].map((front) => (front instanceof Error ? undefined : front.stop())));
    await Promise.all(Object.values(keepsakes).map((server) => server.close().catch(() => undefined)));
  });

  /** Logs each client in through `base` as a browser would and returns how to build its URLs. */
  async function sessionsThrough(base: string, server: TestServer, sharePath: string) {
    const clients = new Map<ClientName, Client>();
    for (const label of ['everyone', 'viewer', 'kids'] as const) {
      const client = new Client(base);
      const login = await client.login(PASSWORDS[label]);
      assert.equal(login.status, 303, `${label} logs in through ${base}`);
      clients.set(label, client);
    }
    const share = new Client(base);
    assert.equal((await share.get(sharePath)).status, 200, `GET ${sharePath}`);
    const opened = await share.request(sharePath, { method: 'POST', headers: { origin: new URL(base).origin } });
    assert.equal(opened.status, 303, `POST ${sharePath}`);
    clients.set('share', share);

    const tokens = new Map<ClientName, string>();
    const listings = new Map<string, Listing | undefined>();
    const albums = [...new Set(CASES.map((file) => file.album))];
    for (const [label, client] of clients) {
      tokens.set(label, (await client.me()).token);
      for (const album of albums) {
        const answer = await client.get(`/api/albums/${encodePath(album)}`);
        listings.set(`${label} ${album}`, answer.status === 200 ? ((await answer.json()) as Listing) : undefined);
      }
    }
    tokens.set('stranger', tokens.get('everyone')!);
    clients.set('stranger', new Client(base));
    return { clients, tokens, listings };
  }

  /** The leaf the server names a derivative by, from the real file's size and mtime (stat follows links). */
  async function leafOf(server: TestServer, file: Case, variant: Variant): Promise<string> {
    const { size, mtimeMs } = await stat(path.resolve(mediaRoot, file.source));
    // Hidden names have no derivative name at all: take one of the same shape from a plain stand-in.
    const plain = (name: string) => name.replace(/^\.+/, '');
    const albumPath = file.album.split('/').map(plain).join('/');
    const leaf = server.services.derivatives.leafFor({ albumPath, name: plain(file.name), size, mtimeMs: Math.trunc(mtimeMs) }, variant);
    return `${file.name}${leaf.slice(plain(file.name).length)}`;
  }

  /** Sessions through a front, and how to ask it every row of the table. */
  async function prepare(front: Front) {
    if (front.missing !== undefined) throw new Error(front.missing); // only reached in CI, which must not skip
    const started = running.get(front.name);
    if (started instanceof Error) throw started;
    assert.ok(started !== undefined, `${front.name} was not started`);
    const server = keepsakes[front.keepsake]!;
    const base = started.url;
    const { clients, tokens, listings } = await sessionsThrough(base, server, sharePaths[front.keepsake]!);
    const problems: string[] = [];
    /** With keepsake stopped: counts what the front answered itself, and lets 502–504 (keepsake is gone) pass. */
    const down = { on: false, served: 0, unavailable: 0 };

    // The API, through the same server: what must not be served must not be listed either.
    for (const asker of ['everyone', 'viewer', 'kids', 'share'] as const) {
      for (const album of new Set(CASES.map((file) => file.album))) {
        const listing = listings.get(`${asker} ${album}`);
        const where = `${front.name}: ${asker} GET /api/albums/${album}`;
        if (listing !== undefined && NEVER_ALBUMS.includes(album)) problems.push(`${where}: expected 404, got 200 (not an album anyone may see)`);
        for (const sub of listing?.albums ?? []) if (NEVER_ALBUMS.includes(sub.path)) problems.push(`${where}: lists the album ${sub.path}, which no one may see`);
        for (const item of listing?.items ?? []) {
          if (CASES.some((file) => file.kind === 'never' && file.album === album && file.name === item.name)) problems.push(`${where}: lists ${item.name}, which no one may see`);
        }
      }
    }

    async function urlOf(row: Row): Promise<string> {
      const owner = row.asker === 'stranger' ? 'everyone' : row.asker;
      const token = tokens.get(owner)!;
      const { file, variant } = row;
      const isDerivative = DERIVATIVES.includes(variant);
      const computed = `/${token}/${encodePath(variant, file.album)}/${encodeURIComponent(isDerivative ? await leafOf(server, file, variant) : file.name)}`;
      // The URL the API lists for this client, where it lists the item (never for what must not be listed).
      const listed = file.kind === 'never' ? undefined : listings.get(`${owner} ${file.album}`)?.items.find((item) => item.name === file.name)?.urls[variant];
      if (listed !== undefined && listed !== computed) problems.push(`${front.name}: ${describeRow(row)}: the API lists ${listed}, the test computed ${computed}`);
      return listed ?? computed;
    }

    async function ask(row: Row): Promise<string | undefined> {
      const url = await urlOf(row);
      const client = clients.get(row.asker)!;
      const headers: Record<string, string> = { ...BROWSER_HEADERS };
      if (client.cookies.size > 0) headers['cookie'] = cookieHeader(client);
      if (row.range !== undefined) headers['range'] = row.range;
      let answer: Answer;
      try {
        answer = await raw(base, url, headers, row.method);
      } catch (error) {
        return `${front.name}: ${describeRow(row)}: expected ${row.expected}, the request failed: ${(error as Error).message}`;
      }
      const text = answer.body.toString('latin1');
      const refusal = answer.status === 403 || answer.status === 404 ? ` ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}` : '';
      const label = `${front.name}: ${describeRow(row)}`;
      const wrong = (why: string) =>
        why === '' ? `${label}: expected ${row.expected}, got ${answer.status}${refusal}   ${url}` : `${label}: ${answer.status} as expected, but ${why}   ${url}`;
      if (down.on && answer.status >= 502 && answer.status <= 504) {
        down.unavailable += 1;
        return undefined;
      }
      if (down.on && answer.status === 200) down.served += 1;
      if (answer.status !== row.expected) return wrong('');
      const body = answer.body;
      if (row.method === 'HEAD') return body.length === 0 ? undefined : wrong('HEAD with a body');
      switch (answer.status) {
        case 404:
          return text === NOT_FOUND ? undefined : wrong(`the body is${refusal}, not ${JSON.stringify(NOT_FOUND)}`);
        case 403:
          return text === FORBIDDEN ? undefined : wrong(`the body is${refusal}, not ${JSON.stringify(FORBIDDEN)}`);
        case 206:
          // A copy's bytes are ffmpeg's: an MP4 starts with its ftyp box.
          if (row.variant === 'playable') return body.length === 100 && body.subarray(4, 8).toString('latin1') === 'ftyp' ? undefined : wrong('the body is not the first 100 bytes of an MP4');
          return body.equals(sources.get(row.file.source)!.subarray(0, 100)) ? undefined : wrong('the body is not the first 100 bytes of the file');
        case 200:
          if (row.variant === 'playable') return answer.headers['content-type'] === 'video/mp4' && body.subarray(4, 8).toString('latin1') === 'ftyp' ? undefined : wrong(`the body is ${body.length} bytes of ${answer.headers['content-type']}, not an MP4 copy`);
          if (DERIVATIVES.includes(row.variant)) return answer.headers['content-type'] === 'image/webp' && body.length > 0 ? undefined : wrong(`the body is ${body.length} bytes of ${answer.headers['content-type']}, not a WebP derivative`);
          return body.equals(sources.get(row.file.source)!) ? undefined : wrong('the body is not the bytes of the real file');
        default:
          return undefined;
      }
    }

    const askAll = async (): Promise<string[]> => (await pool(TABLE, 8, ask)).filter((problem): problem is string => problem !== undefined);
    return { problems, down, askAll };
  }

  async function agree(t: TestContext, front: Front): Promise<void> {
    const { problems, askAll } = await prepare(front);
    const listingProblems = problems.length;
    const wrongRows = await askAll();
    problems.push(...wrongRows);
    const summary = `${front.name}: ${wrongRows.length} of ${TABLE.length} rows disagree with the table; ${listingProblems} listing problems`;
    t.diagnostic(summary);
    assert.ok(problems.length === 0, `${summary}:\n${problems.join('\n')}`);
  }

  it('has one generated table: every client, file and variant, and the guard rows', () => {
    const copyRows = COPIES && CASES.some((file) => file.poster === true) ? ASKERS.length : 0;
    assert.equal(TABLE.length, ASKERS.length * CASES.length * VARIANTS.length + 2 * 3 * 2 + ASKERS.length + copyRows);
    assert.ok(TABLE.some((row) => row.expected === 200) && TABLE.some((row) => row.expected === 404) && TABLE.some((row) => row.expected === 403));
  });

  for (const front of FRONTS) {
    it(`${front.name} gives the table's answer on every row`, { skip: process.env['CI'] ? false : front.missing }, (t) => agree(t, front));
  }

  // Last: it stops the keepsake the servers in front share.
  const fromDisk = FRONTS.filter((front) => front.name === 'nginx (static)' || front.name === 'lighttpd' || front.name === 'Apache');
  const missing = fromDisk.map((front) => front.missing).find((why) => why !== undefined);
  it('with keepsake stopped, what nginx, lighttpd and Apache send from disk still obeys every row', { skip: process.env['CI'] ? false : missing }, async (t) => {
    const prepared = [];
    for (const front of fromDisk) {
      const ready = await prepare(front);
      // Every derivative the table asks for is made now, while keepsake runs; then it stops.
      await ready.askAll();
      prepared.push({ front, ...ready });
    }
    await keepsakes.plain!.close();
    const problems: string[] = [];
    for (const { front, down, askAll } of prepared) {
      down.on = true;
      problems.push(...(await askAll()));
      t.diagnostic(`${front.name}, keepsake stopped: ${down.served} rows served from disk, ${down.unavailable} answered 502–504`);
      if (down.served === 0) problems.push(`${front.name}: nothing was served from disk with keepsake stopped`);
    }
    assert.deepEqual(problems, []);
  });
});
