/**
 * `npm run bench:heic [-- --photos N --rounds N]`: what a HEIC costs beside the same photo as a
 * JPEG. N of the corpus's 12 MP JPEGs (default 3) are encoded to HEIC once with Debian's
 * heif-enc (quality 80, kept in bench/corpus/heic/); then keepsake's derivatives module makes
 * all four default variants of each, from the JPEG and from the HEIC through each HEIC decoder
 * this machine has (Debian's heif-convert, libheif in WebAssembly), one photo at a time. Each
 * way runs in its own process, so its peak RSS is its own; rounds are interleaved and the best
 * median per photo is kept.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { heicDecoders, sharp, useHeicDecoder } from '../src/decoders.js';
import { createDerivatives } from '../src/derivatives/index.js';
import { createLogger } from '../src/log.js';
import { readVerified } from '../src/paths.js';
import { makeGridHeic } from '../test/helpers/heic-grid.js';
import { CORPUS_DIR, corpusFiles, median, option, positiveNumber, report, runCommand, runNodeJson, tempFolder, type Row } from './common.js';

const HEIF_ENC = '/usr/bin/heif-enc';
const HEIC_DIR = path.join(CORPUS_DIR, 'heic');
const WAYS = ['jpeg', 'heif-convert', 'wasm'] as const;
type Way = (typeof WAYS)[number];

interface WayResult {
  readonly way: Way;
  readonly msPerPhoto: number;
  readonly peakRssMiB: number;
}

/** How the HEIC's picture is stored: one HEVC picture (what heif-enc writes), or an iPhone's grid of tiles. */
const LAYOUTS = ['single', 'grid'] as const;
type Layout = (typeof LAYOUTS)[number];

async function heicCorpus(photos: number): Promise<{ jpegs: string[]; heics: Record<Layout, string[]> }> {
  const jpegs = (await corpusFiles()).filter((file) => path.basename(file).startsWith('p12-')).slice(0, photos);
  await mkdir(HEIC_DIR, { recursive: true });
  const heics: Record<Layout, string[]> = { single: [], grid: [] };
  for (const jpeg of jpegs) {
    const heic = path.join(HEIC_DIR, `${path.basename(jpeg, '.jpg')}.heic`);
    if (!existsSync(heic)) {
      const made = await runCommand(HEIF_ENC, ['-q', '80', '-o', heic, jpeg], { timeoutMs: 120_000 });
      if (made.code !== 0) throw new Error(`heif-enc failed on ${jpeg}: ${made.stderr.slice(-300)}`);
    }
    heics.single.push(heic);
    const grid = path.join(HEIC_DIR, `${path.basename(jpeg, '.jpg')}-grid.heic`);
    if (!existsSync(grid)) {
      const scratch = await tempFolder('heic-tiles');
      try {
        await writeFile(grid, await makeGridHeic(await readFile(jpeg), scratch.dir, HEIF_ENC));
      } finally {
        await scratch.remove();
      }
    }
    heics.grid.push(grid);
  }
  return { jpegs, heics };
}

/** In a child: all four variants of each file, one at a time, through keepsake's derivatives module; the median ms per photo. */
async function runWay(way: Way, files: readonly string[]): Promise<WayResult> {
  if (way !== 'jpeg') {
    const decoder = heicDecoders().find((candidate) => (way === 'wasm') === candidate.name.startsWith('libheif-js'));
    if (decoder === undefined) throw new Error(`no ${way} HEIC decoder on this machine`);
    useHeicDecoder(decoder);
  }
  const out = await tempFolder(`heic-${way}`);
  try {
    const derivatives = createDerivatives({ cacheDir: path.join(out.dir, 'cache'), log: createLogger('warn', createWriteStream('/dev/null')), concurrency: 1, timeLimitMs: 300_000 });
    const sourceOf = async (file: string, album: string) => {
      const { size, mtimeMs } = await stat(file);
      return { albumPath: album, name: path.basename(file), size, mtimeMs, read: () => readVerified(path.dirname(file), [path.basename(file)], path.dirname(file)) };
    };
    // Warm-up: loads the codecs (and the WebAssembly module) outside the timings.
    await derivatives.ensureAll(await sourceOf(files[0]!, 'warm-up'), derivatives.variants, 'now');
    const ms: number[] = [];
    for (const file of files) {
      const started = performance.now();
      await derivatives.ensureAll(await sourceOf(file, 'timed'), derivatives.variants, 'now');
      ms.push(performance.now() - started);
    }
    await derivatives.close();
    return { way, msPerPhoto: median(ms)!, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
  } finally {
    await out.remove();
  }
}

/**
 * heif-convert's decode alone (to the JPEG keepsake makes the variants from), median ms per photo:
 * the floor under the HEIC rows, since the variants still follow it.
 */
async function decodeAlone(files: readonly string[]): Promise<number> {
  const decoder = heicDecoders().find((candidate) => !candidate.name.startsWith('libheif-js'))!;
  const ms: number[] = [];
  for (const file of files) {
    const bytes = await readFile(file);
    const { width = 0, height = 0 } = await sharp(bytes).metadata();
    const started = performance.now();
    await decoder.decode(bytes, { timeoutMs: 120_000, pixels: width * height });
    ms.push(performance.now() - started);
  }
  return median(ms)!;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const child = option('child', '', (text) => text);
  if (child !== '') {
    const files = process.argv.slice(process.argv.indexOf('--files') + 1);
    process.stdout.write(`${JSON.stringify(await runWay(child as Way, files))}\n`);
    process.exit(0);
  }
  if (!existsSync(HEIF_ENC)) throw new Error(`${HEIF_ENC} is missing: install Debian's libheif-examples to make the HEIC corpus`);
  const photos = option('photos', 3, positiveNumber('photos'));
  const rounds = option('rounds', 2, positiveNumber('rounds'));
  const { jpegs, heics } = await heicCorpus(photos);
  const ways = WAYS.filter((way) => way !== 'heif-convert' || heicDecoders().length === 2);
  interface Case {
    readonly way: Way;
    readonly layout?: Layout;
    readonly key: string;
    readonly files: readonly string[];
  }
  const cases = ways.flatMap((way): Case[] => (way === 'jpeg' ? [{ way, key: way, files: jpegs }] : LAYOUTS.map((layout) => ({ way, layout, key: `${way} ${layout}`, files: heics[layout] }))));
  const best = new Map<string, WayResult>();
  for (let round = 0; round < rounds; round += 1) {
    for (const { way, key, files } of cases) {
      const result = await runNodeJson<WayResult>('heic.ts', ['--child', way, '--files', ...files], 600_000);
      process.stdout.write(`${key}: ${result.msPerPhoto.toFixed(0)} ms per photo, peak RSS ${result.peakRssMiB.toFixed(0)} MiB\n`);
      const previous = best.get(key);
      if (previous === undefined || result.msPerPhoto < previous.msPerPhoto) best.set(key, result);
    }
  }
  const jpeg = best.get('jpeg')!;
  const rows: Row[] = [];
  if (ways.includes('heif-convert')) {
    for (const layout of LAYOUTS) {
      const ms = await decodeAlone(heics[layout]);
      rows.push({ measure: `the floor: heif-convert's decode alone, ${layout === 'grid' ? "an iPhone's 512 px tiles" : 'one picture'}`, ours: ms, reference: jpeg.msPerPhoto, referenceName: 'the JPEG\'s whole job', unit: 'ms' });
    }
  }
  for (const { way, layout, key } of cases) {
    if (layout === undefined) continue;
    const result = best.get(key)!;
    const name = `${way === 'wasm' ? 'WebAssembly (libheif-js)' : 'heif-convert (Debian libheif)'}, ${layout === 'grid' ? "an iPhone's 512 px tiles" : 'one picture'}`;
    rows.push({ measure: `all four variants of a 12 MP HEIC, ${name}`, ours: result.msPerPhoto, reference: jpeg.msPerPhoto, referenceName: 'the same photo as a JPEG', unit: 'ms', goal: '≤ 2' });
    rows.push({ measure: `… peak RSS of keepsake's process, ${name}`, ours: result.peakRssMiB, reference: jpeg.peakRssMiB, referenceName: 'the same photo as a JPEG', unit: 'MiB' });
  }
  await report('heic', `HEIC: all four variants of ${photos} 12 MP photos, one at a time (best median of ${rounds} rounds)`, rows, { results: [...best.entries()].map(([key, result]) => ({ case: key, ...result })) });
}
