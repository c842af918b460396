/**
 * The soak: `npm run soak -- --minutes N [--families 20]`.
 *
 * Starts `keepsake serve` as a child process on loopback with sessions that expire every few
 * seconds (KEEPSAKE_SESSION_TTL=3s) and a sweep every second, lets simulated families log in,
 * browse, view photos and log out or walk away until the time is up, then checks what must
 * hold after any amount of that: no 5xx, no answer cut short, no token link without a live
 * session, no file descriptor leaked, memory flat. Prints a report and a `SOAK_RESULT {…}`
 * JSON line; exits 1 when a check fails.
 *
 * All families come from 127.0.0.1, so the guard's per-address media budget (2400, then 40/s)
 * and its login throttle (an attempt counts as failed until its password checks out; the sixth
 * at once waits) would treat them as one household; the run raises both in a config file
 * (KEEPSAKE_CONFIG) so the soak measures keepsake, not the rate limiter.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { runKeepsake } from '../helpers/cli.js';
import { makeMediaRoot, tempDir } from '../helpers/fixtures.js';
import { eventually, memoryOf, openFileCount, serveProcess } from '../helpers/robustness-process.js';
import { sessionRows, sorted, tokenLinkNames } from '../helpers/robustness-state.js';
import { newTally } from './browser.js';
import { newSessionEvents, runFamily, type Key } from './family.js';

const SESSION_TTL_MS = 3_000;
const REMEMBER_TTL_MS = 6_000;
/** Open descriptors may differ by a few between two quiet moments (a socket being torn down, libuv). */
const FD_NOISE = 4;

interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

function options() {
  const { values } = parseArgs({
    options: { minutes: { type: 'string', default: '1' }, families: { type: 'string', default: '20' }, seed: { type: 'string', default: '1' } },
  });
  const minutes = Number(values.minutes);
  const families = Number(values.families);
  if (!(minutes > 0 && minutes <= 24 * 60)) throw new Error(`--minutes: expected a number of minutes above 0, received ${values.minutes}`);
  if (!(Number.isInteger(families) && families >= 1 && families <= 500)) throw new Error(`--families: expected an integer from 1 to 500, received ${values.families}`);
  return { minutes, families, seed: Number(values.seed) || 1 };
}

/** A small deterministic generator, so two runs with one seed make the same choices. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

async function makeLibrary(mediaRoot: string): Promise<void> {
  await makeMediaRoot(mediaRoot);
  const colours = ['#d04030', '#30a050', '#3050d0', '#d0a030', '#9040c0', '#30b0b0'];
  for (const [index, colour] of colours.entries()) {
    const album = path.join(mediaRoot, `Soak ${index + 1}`, ...(index % 2 === 0 ? [] : ['Day one']));
    await mkdir(album, { recursive: true });
    for (let photo = 0; photo < 10; photo += 1) {
      await sharp({ create: { width: 900, height: 600, channels: 3, background: colour, noise: { type: 'gaussian', mean: 128, sigma: 20 } } })
        .jpeg({ quality: 80 })
        .toFile(path.join(album, `photo-${photo}.jpg`));
    }
  }
}

async function main(): Promise<number> {
  const { minutes, families, seed } = options();
  const mediaRoot = await tempDir('keepsake-soak-media-');
  const stateDir = await tempDir('keepsake-soak-state-');
  await makeLibrary(mediaRoot);
  const configFile = path.join(stateDir, 'soak.config.json');
  const guard = {
    rates: { perSession: { burst: 5_000, perSecond: 500 }, perAddress: { burst: 50_000, perSecond: 5_000 } },
    // A login counts as a failure until its password checks out, so twenty families logging in
    // at once from one address would look like a guesser after the fifth.
    login: { freeFailures: 200 },
  };
  await writeFile(configFile, JSON.stringify({ guard }));
  const env = {
    KEEPSAKE_MEDIA_ROOT: mediaRoot,
    KEEPSAKE_STATE_DIR: stateDir,
    KEEPSAKE_CONFIG: configFile,
    KEEPSAKE_SESSION_TTL: `${SESSION_TTL_MS / 1000}s`,
    KEEPSAKE_REMEMBER_TTL: `${REMEMBER_TTL_MS / 1000}s`,
    KEEPSAKE_SWEEP_INTERVAL: '* * * * * *',
  };
  const keys: Key[] = [
    { password: 'soak family password', canDownloadOriginals: true },
    { password: 'soak grandparents password', canDownloadOriginals: false },
  ];
  for (const [label, key, albums] of [['family', keys[0]!, '*'], ['grandparents', keys[1]!, 'Soak 1,Soak 2,Soak 3']] as const) {
    const args = ['key', 'add', label, '--password', key.password, '--albums', albums, ...(key.canDownloadOriginals ? [] : ['--no-originals'])];
    const added = await runKeepsake(args, env);
    if (added.code !== 0) throw new Error(`keepsake key add ${label} failed: ${added.stderr}`);
  }

  const server = await serveProcess(env);
  const base = new URL(server.url);
  const webRoot = path.join(stateDir, 'webroot');
  const checks: Check[] = [];
  try {
    // Warm-up: one visit makes the derivatives and the lazily opened handles; then measure at rest.
    const warmTally = newTally();
    await runFamily({ base, keys, sessionTtlMs: SESSION_TTL_MS, deadline: Date.now() + 4_000, tally: warmTally, events: newSessionEvents(), random: seededRandom(seed + 999) });
    await sleep(1_000);
    const fdsAtStart = await openFileCount(server.pid);
    const memoryAtStart = await memoryOf(server.pid);
    const rss: number[] = [];
    const sampler = setInterval(() => void memoryOf(server.pid).then((memory) => rss.push(memory.rssMiB), () => undefined), 1_000);

    const tally = newTally();
    const events = newSessionEvents();
    const startedAt = Date.now();
    const deadline = startedAt + minutes * 60_000;
    const random = seededRandom(seed);
    const maxLinks = { seen: 0 };
    const linkWatch = setInterval(() => void tokenLinkNames(webRoot).then((links) => (maxLinks.seen = Math.max(maxLinks.seen, links.size))), 500);
    await Promise.all(
      Array.from({ length: families }, async (_, index) => {
        await sleep(index * 100); // families arrive over two seconds, not in one burst
        await runFamily({ base, keys, sessionTtlMs: SESSION_TTL_MS, deadline, tally, events, random });
      }),
    );
    const elapsedS = (Date.now() - startedAt) / 1000;
    clearInterval(sampler);
    clearInterval(linkWatch);

    // Links and sessions agree at once (retrying over a sweep that is between its row and its link)…
    let agreement = '';
    const agree = await eventually(async () => {
      const links = sorted(await tokenLinkNames(webRoot));
      const rows = sorted(sessionRows(stateDir).map((row) => row.token));
      agreement = `${links.length} links, ${rows.length} sessions`;
      return JSON.stringify(links) === JSON.stringify(rows);
    }, 3_000, 100);
    checks.push({ name: 'web root token links = session rows, right after the load', ok: agree, detail: agreement });
    // …and once every session has expired, the sweeper has removed every link.
    let drained = '';
    const empty = await eventually(async () => {
      const links = await tokenLinkNames(webRoot);
      const rows = sessionRows(stateDir);
      drained = `${links.size} links, ${rows.length} sessions`;
      return links.size === 0 && rows.length === 0;
    }, REMEMBER_TTL_MS + 5_000, 250);
    checks.push({ name: 'no link outlives its session (all expired and swept)', ok: empty, detail: drained });

    await sleep(1_000);
    const fdsAtEnd = await openFileCount(server.pid);
    const memoryAtEnd = await memoryOf(server.pid);
    const rate = tally.requests / elapsedS;
    const statuses = Object.fromEntries([...tally.statuses].sort(([a], [b]) => a - b));
    checks.push({ name: 'no 5xx', ok: tally.serverErrors === 0, detail: `${tally.serverErrors} (besides ${tally.busyLogins} logins asked to wait a moment, with Retry-After, and tried again)` });
    checks.push({ name: 'no answer cut short', ok: tally.shortBodies === 0, detail: `${tally.shortBodies}` });
    checks.push({ name: 'no connection error', ok: tally.connectionErrors === 0, detail: `${tally.connectionErrors} (${tally.staleConnectionRetries} sent again after an idle kept-alive connection closed, as browsers do)` });
    checks.push({ name: 'every answer as expected (media 404 only after the session ended)', ok: tally.unexpected === 0, detail: `${tally.unexpected} unexpected` });
    checks.push({ name: 'no file descriptor leaked', ok: fdsAtEnd <= fdsAtStart + FD_NOISE, detail: `${fdsAtStart} at start, ${fdsAtEnd} at end` });
    // Flat: the end is not far above the start, and the second half did not keep climbing past the first.
    const half = rss.slice(Math.floor(rss.length / 2));
    const firstHalfPeak = Math.max(memoryAtStart.rssMiB, ...rss.slice(0, Math.floor(rss.length / 2)));
    const flat = memoryAtEnd.rssMiB <= memoryAtStart.rssMiB * 1.5 + 64 && Math.max(0, ...half) <= firstHalfPeak * 1.25 + 32;
    checks.push({
      name: 'memory flat',
      ok: flat,
      detail: `RSS ${memoryAtStart.rssMiB} MiB at start, ${memoryAtEnd.rssMiB} MiB at end, peak ${memoryAtEnd.peakRssMiB} MiB`,
    });
    checks.push({ name: 'server still running', ok: server.child.exitCode === null, detail: server.child.exitCode === null ? 'yes' : `exited ${server.child.exitCode}` });
    const stopped = await server.stop();
    checks.push({ name: 'clean shutdown on SIGTERM', ok: stopped === 0, detail: `exit ${stopped}` });

    const result = {
      minutes,
      families,
      seconds: Math.round(elapsedS),
      requests: tally.requests,
      requestsPerSecond: Math.round(rate * 10) / 10,
      statuses,
      sessions: { ...events, mostLinksAtOnce: maxLinks.seen },
      fds: { start: fdsAtStart, end: fdsAtEnd },
      rssMiB: { start: memoryAtStart.rssMiB, end: memoryAtEnd.rssMiB, peak: memoryAtEnd.peakRssMiB },
      problems: tally.problems,
      failed: checks.filter((check) => !check.ok).map((check) => check.name),
    };
    process.stdout.write(
      `keepsake soak: ${families} families for ${elapsedS.toFixed(0)} s, ${tally.requests} requests (${rate.toFixed(1)}/s)\n` +
        `statuses: ${JSON.stringify(statuses)}\n` +
        `sessions: ${events.logins} logins, ${events.logouts} logouts, ${events.expiries} expiries after walking away, ` +
        `${events.expiredInUse} expired while in use; at most ${maxLinks.seen} links at once\n` +
        checks.map((check) => `${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}\n`).join('') +
        (tally.problems.length > 0 ? `problems (first ${tally.problems.length}):\n${tally.problems.map((line) => `  ${line}\n`).join('')}` : '') +
        `SOAK_RESULT ${JSON.stringify(result)}\n`,
    );
    if (checks.some((check) => !check.ok)) process.stdout.write(`server log (tail):\n${server.output().slice(-3000)}\n`);
    return checks.every((check) => check.ok) ? 0 : 1;
  } finally {
    await server.kill();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`soak failed to run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);
