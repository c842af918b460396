/**
 * `npm run bench:zip [-- --gigabytes N] [--rounds N]`: an album downloaded as one ZIP through
 * the real route (`POST /download/<album>`). keepsake runs in this process on a temp media root
 * holding one album of hard links to four 12-megapixel JPEGs (about 10 MB each, each link its own
 * photo to keepsake) totalling N GB (default 2), and a quarter-size album beside it; curl, in its
 * own process, downloads and discards the bytes. Each download is measured in a server process of
 * its own (started, warmed up with a one-photo album, then measured), so one case's memory does not
 * hide the next one's. Figures: throughput, and the peak growth of the server's RSS over its level
 * just before the download (sampled every 10 ms), for both albums: the same growth for both is
 * what "constant memory" means. The reference is the same bytes fetched file by file from
 * `/<token>/original/…` by one curl on one kept-alive connection.
 */
import { execFile } from 'node:child_process';
import { link, mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { BENCH_DIR, median, megabytes, option, positiveNumber, report, runCommand, tempFolder, type Row } from './common.js';
import { BENCH_GUARD, BROWSER_HEADERS, startBenchServer, type BenchServer } from './keepsake-server.js';

const run = promisify(execFile);
const SOURCES = 4;
const BIG = 'Big album';
const SMALL = 'Quarter album';
const WARM_UP = 'Warm-up';
const CASES = ['big', 'small', 'reference'] as const;
type Case = (typeof CASES)[number];

interface Measure {
  readonly bytes: number;
  readonly seconds: number;
  readonly rssGrowthBytes: number;
}

/** Four distinct noisy 12 MP photos (noise does not compress, so each is about 10 MB). */
async function makeSources(folder: string): Promise<string[]> {
  const files: string[] = [];
  for (let index = 0; index < SOURCES; index += 1) {
    const file = path.join(folder, `source-${index}.jpg`);
    await sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
      .jpeg({ quality: 92 })
      .toFile(file);
    files.push(file);
  }
  return files;
}

/** An album of hard links to the sources, as many as make `bytes`; returns how many. */
async function makeAlbum(folder: string, sources: readonly string[], sourceBytes: number, bytes: number): Promise<number> {
  await mkdir(folder, { recursive: true });
  const count = Math.max(1, Math.round(bytes / sourceBytes));
  for (let index = 0; index < count; index += 1) await link(sources[index % sources.length]!, path.join(folder, `IMG_${String(index).padStart(5, '0')}.jpg`));
  return count;
}

/** Runs `work` while sampling this process's RSS; the peak growth over the level before it. */
async function withPeakRss(work: () => Promise<{ bytes: number; seconds: number }>): Promise<Measure> {
  (globalThis as { gc?: () => void }).gc?.();
  const before = process.memoryUsage.rss();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  try {
    const done = await work();
    return { ...done, rssGrowthBytes: Math.max(peak, process.memoryUsage.rss()) - before };
  } finally {
    clearInterval(sampler);
  }
}

function curlHeaders(cookie: string): string[] {
  return Object.entries({ ...BROWSER_HEADERS, cookie }).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
}

/** curl downloads and discards; its own figures (bytes, seconds) are what a client saw. */
async function curl(args: readonly string[]): Promise<{ bytes: number; seconds: number }> {
  const { stdout } = await run('curl', ['-sS', '--fail', '-w', '%{size_download} %{time_total}\\n', ...args], { maxBuffer: 16 * 1024 * 1024 });
  const lines = stdout.trim().split('\n').map((line) => line.split(' ').map(Number));
  return { bytes: lines.reduce((sum, [bytes = 0]) => sum + bytes, 0), seconds: lines.reduce((sum, [, seconds = 0]) => sum + seconds, 0) };
}

function downloadZip(bench: BenchServer, cookie: string, album: string): Promise<Measure> {
  return withPeakRss(() => curl([...curlHeaders(cookie), '-X', 'POST', '-o', '/dev/null', `${bench.url}/download/${encodeURIComponent(album)}`]));
}

/** The same originals one by one, on one connection (a curl config file lists them). */
async function downloadOneByOne(bench: BenchServer, cookie: string, album: string, scratch: string): Promise<Measure> {
  const items = await bench.items(album, cookie);
  const config = path.join(scratch, `${album}.curl`);
  await writeFile(config, items.map((item) => `url = "${bench.url}${item.urls['original']}"\noutput = "/dev/null"\n`).join(''));
  return withPeakRss(() => curl([...curlHeaders(cookie), '-K', config]));
}

function rows(big: Measure[], small: Measure[], reference: Measure[], gigabytes: number): Row[] {
  const rate = (measures: Measure[]) => median(measures.map((measure) => megabytes(measure.bytes) / measure.seconds));
  const growth = (measures: Measure[]) => median(measures.map((measure) => megabytes(measure.rssGrowthBytes)));
  const name = 'originals one by one';
  // No goals: the growth is the garbage collector's slack, which levels off (see BENCHMARKS.md), not a budget.
  return [
    { measure: `${gigabytes} GB album, throughput`, ours: rate(big), reference: rate(reference), referenceName: name, unit: 'MiB/s' },
    { measure: `${gigabytes} GB album, peak RSS growth`, ours: growth(big), reference: growth(reference), referenceName: name, unit: 'MiB' },
    { measure: `${gigabytes} GB album against a ${gigabytes / 4} GB one, peak RSS growth`, ours: growth(big), reference: growth(small), referenceName: `${gigabytes / 4} GB album`, unit: 'MiB' },
  ];
}

/** One case in this process: the server on `mediaRoot`, a warm-up download, then the measured one; prints its Measure as JSON. */
async function measureCase(which: Case, mediaRoot: string): Promise<void> {
  const scratch = await tempFolder('zip-case');
  const bench = await startBenchServer({ mediaRoot, guard: BENCH_GUARD, logLevel: 'warn' });
  try {
    const cookie = await bench.login();
    await downloadZip(bench, cookie, WARM_UP);
    await downloadOneByOne(bench, cookie, WARM_UP, scratch.dir);
    const measure = which === 'reference' ? await downloadOneByOne(bench, cookie, BIG, scratch.dir) : await downloadZip(bench, cookie, which === 'big' ? BIG : SMALL);
    process.stdout.write(`${JSON.stringify(measure)}\n`);
  } finally {
    await bench.close();
    await scratch.remove();
  }
}

async function inOwnProcess(which: Case, mediaRoot: string): Promise<Measure> {
  const args = ['--import', 'tsx', '--expose-gc', path.join(BENCH_DIR, 'zip.ts'), '--case', which, '--media', mediaRoot];
  const result = await runCommand(process.execPath, args, { timeoutMs: 10 * 60_000 });
  if (result.code !== 0) throw new Error(`zip.ts --case ${which} exited with ${result.code}: ${result.stderr.slice(-2000)}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as Measure;
}

async function main(): Promise<void> {
  const gigabytes = option('gigabytes', 2, positiveNumber('gigabytes'));
  const rounds = option('rounds', 3, positiveNumber('rounds'));
  const scratch = await tempFolder('zip');
  try {
    const sources = await makeSources(scratch.dir);
    const { size } = await stat(sources[0]!);
    const mediaRoot = path.join(scratch.dir, 'media');
    const count = await makeAlbum(path.join(mediaRoot, BIG), sources, size, gigabytes * 1e9);
    await makeAlbum(path.join(mediaRoot, SMALL), sources, size, (gigabytes * 1e9) / 4);
    await makeAlbum(path.join(mediaRoot, WARM_UP), sources, size, size);
    const measured: Record<Case, Measure[]> = { big: [], small: [], reference: [] };
    for (let round = 0; round < rounds; round += 1) for (const which of CASES) measured[which].push(await inOwnProcess(which, mediaRoot));
    const title = `Album ZIP downloads (${count} photos, ${(measured.big[0]!.bytes / 1e9).toFixed(2)} GB, through POST /download, median of ${rounds})`;
    await report('zip', title, rows(measured.big, measured.small, measured.reference, gigabytes), { count, ...measured });
  } finally {
    await scratch.remove();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const which = option<Case | undefined>('case', undefined, (text) => {
    if (!(CASES as readonly string[]).includes(text)) throw new TypeError(`Expected ${CASES.join(', ')} for --case but received ${JSON.stringify(text)}`);
    return text as Case;
  });
  if (which === undefined) await main();
  else await measureCase(which, option('media', '', (text) => text));
}
