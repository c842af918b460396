/**
 * `npm run bench:derivatives [-- --rounds N]`: images/second and peak RSS to make every
 * default variant (thumb, small, medium, large; WebP q80 effort 2) of every corpus photo at
 * concurrency 1 and 2, through keepsake's derivatives module, plain sharp doing the same
 * cascade, and one `vipsthumbnail` call per variant; each mode in its own process, best of
 * N rounds (the machine is shared). Then the latency of the first request for an uncached
 * `medium` through the real HTTP server, against plain sharp making that one file.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { DEFAULT_PRESETS } from '../src/derivatives/index.js';
import { CORPUS_ALBUM, CORPUS_DIR, corpusFiles, median, option, percentile, positiveNumber, report, runNodeJson, type Row } from './common.js';
import { MODES, WEBP, type Mode, type ModeResult } from './derivative-modes.js';
import { startBenchServer } from './keepsake-server.js';

const CONCURRENCIES = [1, 2] as const;
const MODE_TIMEOUT_MS = 10 * 60_000;

/** Every mode at every concurrency, interleaved round by round so drift on a shared box hits all alike. */
export async function measureModes(rounds: number): Promise<ModeResult[]> {
  const best = new Map<string, ModeResult>();
  for (let round = 1; round <= rounds; round += 1) {
    for (const concurrency of CONCURRENCIES) {
      for (const mode of MODES) {
        const result = await runNodeJson<ModeResult>('derivative-modes.ts', [mode, String(concurrency)], MODE_TIMEOUT_MS);
        process.stdout.write(`round ${round}: ${mode} ×${concurrency}: ${result.imagesPerSecond.toFixed(2)} images/s, peak RSS ${result.peakRssMiB.toFixed(0)} MiB\n`);
        const key = `${mode}:${concurrency}`;
        const previous = best.get(key);
        if (previous === undefined || result.imagesPerSecond > previous.imagesPerSecond) best.set(key, result);
      }
    }
  }
  return [...best.values()];
}

/** Plain sharp making one `medium` from the original: the floor for a first request. */
async function sharpMedium(file: string): Promise<number> {
  const preset = DEFAULT_PRESETS.medium;
  const started = performance.now();
  await sharp(file, { failOn: 'error', sequentialRead: true, autoOrient: true })
    .resize(preset.width, preset.height, { fit: 'inside' })
    .toColourspace('srgb')
    .webp(WEBP)
    .toBuffer();
  return performance.now() - started;
}

export interface FirstRequest {
  readonly samples: number;
  readonly httpMs: readonly number[];
  readonly sharpMs: readonly number[];
}

/**
 * Starts keepsake on the corpus, lets the start-up pre-generation (thumb, small) finish,
 * then asks for each photo's `medium` once, one at a time; deletes the medium cache between
 * rounds so every request is a miss. The reference runs in the same process afterwards.
 */
export async function measureFirstRequest(rounds: number): Promise<FirstRequest> {
  const bench = await startBenchServer({ mediaRoot: CORPUS_DIR });
  const httpMs: number[] = [];
  try {
    await bench.idle(10 * 60_000);
    const cookie = await bench.login();
    const items = await bench.items(CORPUS_ALBUM, cookie);
    for (let round = 0; round < rounds; round += 1) {
      await rm(path.join(bench.cacheDir, 'medium'), { recursive: true, force: true });
      for (const item of items) {
        const url = item.urls['medium'];
        if (url === undefined) throw new Error(`${item.name} has no medium URL`);
        const started = performance.now();
        const response = await bench.get(url, cookie);
        if (response.status !== 200 || response.body.length === 0) throw new Error(`${url} answered ${response.status}`);
        httpMs.push(performance.now() - started);
      }
    }
  } finally {
    await bench.close();
  }
  const files = await corpusFiles();
  const sharpMs: number[] = [];
  for (let round = 0; round < rounds; round += 1) for (const file of files) sharpMs.push(await sharpMedium(file));
  return { samples: httpMs.length, httpMs, sharpMs };
}

function byMode(results: readonly ModeResult[], mode: Mode, concurrency: number): ModeResult | undefined {
  return results.find((result) => result.mode === mode && result.concurrency === concurrency);
}

export function derivativeRows(results: readonly ModeResult[], first: FirstRequest): Row[] {
  const rows: Row[] = [];
  for (const concurrency of CONCURRENCIES) {
    const ours = byMode(results, 'keepsake', concurrency);
    const plain = byMode(results, 'sharp', concurrency);
    const vips = byMode(results, 'vips', concurrency);
    const c = `concurrency ${concurrency}`;
    rows.push({ measure: `all variants, ${c}`, ours: ours?.imagesPerSecond, reference: vips?.imagesPerSecond, referenceName: 'vipsthumbnail per variant', unit: 'images/s', goal: '≥ 1.5' });
    rows.push({ measure: `all variants, ${c}`, ours: ours?.imagesPerSecond, reference: plain?.imagesPerSecond, referenceName: 'plain sharp cascade', unit: 'images/s', goal: '≥ 0.95' });
    rows.push({ measure: `peak RSS, ${c}`, ours: ours?.peakRssMiB, reference: plain?.peakRssMiB, referenceName: 'plain sharp cascade', unit: 'MiB' });
    rows.push({ measure: `peak RSS, ${c}`, ours: ours?.peakRssMiB, reference: vips === undefined ? undefined : vips.peakRssMiB * concurrency, referenceName: `vipsthumbnail, largest process × ${concurrency}`, unit: 'MiB' });
  }
  rows.push({ measure: 'first uncached medium, p50', ours: median(first.httpMs), reference: median(first.sharpMs), referenceName: 'plain sharp, that file alone', unit: 'ms' });
  rows.push({ measure: 'first uncached medium, p95', ours: percentile(first.httpMs, 95), reference: percentile(first.sharpMs, 95), referenceName: 'plain sharp, that file alone', unit: 'ms' });
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rounds = Math.floor(option('rounds', 2, positiveNumber('rounds')));
  const files = await corpusFiles();
  process.stdout.write(`derivatives: ${files.length} photos, ${rounds} round(s) per mode\n`);
  const results = await measureModes(rounds);
  const first = await measureFirstRequest(rounds);
  const rows = derivativeRows(results, first);
  await report('derivatives', `Derivatives: ${files.length} photos × 4 variants, WebP q${WEBP.quality} effort ${WEBP.effort} (best of ${rounds})`, rows, { rounds, modes: results, firstRequest: first });
}
