/**
 * `npm run bench:first-view [-- --photos N] [--rounds N]`: the first view of an album dropped a
 * moment ago. keepsake runs (in this process) on an empty media root with a logged-in visitor;
 * N (default 100) 12-megapixel JPEGs (hard links to the corpus's, each its own photo to keepsake)
 * are dropped into a new folder; once the album lists all of them, the visitor's grid asks for
 * every `thumb` as a browser does (6 connections, asking again after a 503). The figure is the
 * time from opening the album to the last thumbnail answered, beside plain sharp making just
 * those thumbnails (same preset, as many at once as keepsake's derivative queue runs). The time
 * from the drop to the album being listed in full is printed beside it.
 */
import { availableParallelism } from 'node:os';
import { link, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { DEFAULT_PRESETS } from '../src/derivatives/index.js';
import { CORPUS_ALBUM, CORPUS_DIR, corpusFiles, forEachLimited, option, positiveNumber, report, tempFolder, type Row } from './common.js';
import { WEBP } from './derivative-modes.js';
import { BENCH_GUARD, startBenchServer, type BenchServer } from './keepsake-server.js';

const BROWSER_CONNECTIONS = 6;
const DROP = 'Dropped just now';

interface Round {
  /** From the drop to the album listing every photo. */
  readonly listedMs: number;
  /** From opening the album to the last thumbnail answered. */
  readonly thumbsMs: number;
  /** Answers of 503 (asked again), across the grid. */
  readonly busy: number;
  /** Plain sharp making the same thumbnails. */
  readonly sharpMs: number;
}

async function twelveMegapixelFiles(): Promise<string[]> {
  const files = (await corpusFiles()).filter((file) => path.basename(file).startsWith('p12-'));
  if (files.length === 0) throw new Error(`no 12 MP JPEGs in ${path.join(CORPUS_DIR, CORPUS_ALBUM)}: run npm run bench:corpus`);
  return files;
}

async function drop(folder: string, sources: readonly string[], count: number): Promise<string[]> {
  await mkdir(folder);
  const names = Array.from({ length: count }, (_, index) => `IMG_${String(index + 1).padStart(4, '0')}.jpg`);
  await Promise.all(names.map((name, index) => link(sources[index % sources.length]!, path.join(folder, name))));
  return names.map((name) => path.join(folder, name));
}

async function waitForListing(bench: BenchServer, cookie: string, count: number): Promise<Array<{ urls: Record<string, string> }>> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const response = await bench.get(`/api/albums/${encodeURIComponent(DROP)}`, cookie);
    if (response.status === 200) {
      const items = (JSON.parse(response.body.toString('utf8')) as { items: Array<{ urls: Record<string, string> }> }).items;
      if (items.length === count) return items;
    }
    if (Date.now() > deadline) throw new Error(`the dropped album did not list ${count} photos within 120 s`);
    await sleep(50);
  }
}

/** Every thumbnail of the grid, 6 at a time; a 503 is asked again after its Retry-After, as the gallery does. */
async function loadGrid(bench: BenchServer, cookie: string, urls: readonly string[]): Promise<number> {
  let busy = 0;
  await forEachLimited(urls, BROWSER_CONNECTIONS, async (url) => {
    for (;;) {
      const response = await bench.get(url, cookie);
      if (response.status === 200) return;
      if (response.status !== 503) throw new Error(`${url} answered ${response.status}`);
      busy += 1;
      await sleep(Math.min(2000, Number(response.headers.get('retry-after') ?? '1') * 1000));
    }
  });
  return busy;
}

async function plainSharpThumbs(files: readonly string[], concurrency: number): Promise<number> {
  const preset = DEFAULT_PRESETS.thumb;
  const started = performance.now();
  await forEachLimited(files, concurrency, async (file) => {
    await sharp(file, { failOn: 'error', sequentialRead: true, autoOrient: true })
      .resize(preset.width, preset.height, { fit: preset.fit, position: preset.position })
      .toColourspace('srgb')
      .webp(WEBP)
      .toBuffer();
  });
  return performance.now() - started;
}

async function round(photos: number): Promise<Round> {
  const sources = await twelveMegapixelFiles();
  const media = await tempFolder('first-view');
  const bench = await startBenchServer({ mediaRoot: media.dir, guard: BENCH_GUARD, logLevel: 'warn' });
  try {
    const cookie = await bench.login();
    await bench.idle(60_000);
    const dropped = Date.now();
    const files = await drop(path.join(media.dir, DROP), sources, photos);
    const items = await waitForListing(bench, cookie, photos);
    const listedMs = Date.now() - dropped;
    const opened = performance.now();
    const busy = await loadGrid(bench, cookie, items.map((item) => item.urls['thumb']!));
    const thumbsMs = performance.now() - opened;
    // The reference runs once keepsake has nothing left to do, on the same files.
    await bench.idle(10 * 60_000);
    const sharpMs = await plainSharpThumbs(files, bench.server.services.settings.derivativeConcurrency);
    process.stdout.write(`listed after ${listedMs} ms; grid in ${thumbsMs.toFixed(0)} ms (${busy} × 503); plain sharp ${sharpMs.toFixed(0)} ms\n`);
    return { listedMs, thumbsMs, busy, sharpMs };
  } finally {
    await bench.close();
    await rm(media.dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const photos = Math.floor(option('photos', 100, positiveNumber('photos')));
  const rounds = Math.floor(option('rounds', 2, positiveNumber('rounds')));
  const results: Round[] = [];
  for (let index = 0; index < rounds; index += 1) results.push(await round(photos));
  const best = results.reduce((a, b) => (b.thumbsMs / b.sharpMs < a.thumbsMs / a.sharpMs ? b : a));
  const rows: Row[] = [
    { measure: `first view of ${photos} photos dropped a moment ago: every grid thumbnail`, ours: best.thumbsMs, reference: best.sharpMs, referenceName: 'plain sharp making those thumbnails', unit: 'ms', goal: '≤ 1.3' },
    { measure: '… from the drop to the album listing every photo', ours: best.listedMs, reference: undefined, referenceName: 'catalogue from headers, watcher settle included', unit: 'ms' },
    { measure: '… answers of 503 (asked again)', ours: best.busy, reference: undefined, referenceName: '', unit: '' },
  ];
  await report('first-view', `First view of a dropped album: ${photos} × 12 MP JPEG, ${BROWSER_CONNECTIONS} browser connections, ${availableParallelism()} cores, best of ${rounds}`, rows, { photos, rounds, results });
}
