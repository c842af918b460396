/**
 * One way of making every default variant of every corpus photo, run alone in its own
 * process so its peak RSS is its own: `node --import tsx bench/derivative-modes.ts <mode>
 * <concurrency>`; prints one JSON line. Modes: `keepsake` (the derivatives module),
 * `sharp` (plain sharp doing the same one-decode cascade), `vips` (one `vipsthumbnail`
 * call per variant, each decoding the original again).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { createDerivatives, DEFAULT_PRESETS, DEFAULT_VARIANTS, variantOutputSize, type Preset } from '../src/derivatives/index.js';
import { createLogger } from '../src/log.js';
import { readVerified } from '../src/paths.js';
import { CORPUS_ALBUM, corpusFiles, forEachLimited, megabytes, runCommand, tempFolder } from './common.js';

export const MODES = ['keepsake', 'sharp', 'vips'] as const;
export type Mode = (typeof MODES)[number];

/** keepsake's defaults (src/derivatives/formats.ts): WebP q80 effort 2. */
export const WEBP = { quality: 80, effort: 2 } as const;
const VIPS_THUMBNAIL = '/usr/bin/vipsthumbnail';

export interface ModeResult {
  readonly mode: Mode;
  readonly concurrency: number;
  readonly images: number;
  readonly seconds: number;
  readonly imagesPerSecond: number;
  /** Peak RSS of this process (MiB); for `vips`, of the largest vipsthumbnail process. */
  readonly peakRssMiB: number;
  /** RSS of this process after its imports and warm-up, before the timed work. */
  readonly baselineRssMiB: number;
  readonly outputBytes: number;
}

/** The size of the one decode every variant comes from: enough for the largest. */
function baseSize(width: number, height: number, presets: readonly Preset[]): { width: number; height: number } {
  const scale = Math.min(1, Math.max(...presets.map((preset) => {
    const size = variantOutputSize(width, height, preset);
    return Math.max(size.width / width, size.height / height);
  })));
  return { width: Math.min(width, Math.ceil(width * scale)), height: Math.min(height, Math.ceil(height * scale)) };
}

/** An encoder step and the file extension it writes. */
export interface Encoding {
  readonly extension: string;
  apply(image: Sharp): Sharp;
}

export const DEFAULT_ENCODING: Encoding = { extension: 'webp', apply: (image) => image.webp(WEBP) };

/** Plain sharp, same settings as keepsake's pipeline: one decode to raw, then each variant from it. */
export async function sharpCascade(file: string, outDir: string, encoding: Encoding = DEFAULT_ENCODING): Promise<number> {
  const input = { failOn: 'error', limitInputPixels: 100_000_000, sequentialRead: true } as const;
  const metadata = await sharp(file, input).metadata();
  const { width, height } = metadata.autoOrient;
  const presets = DEFAULT_VARIANTS.map((variant) => DEFAULT_PRESETS[variant]);
  const base = baseSize(width, height, presets);
  const { data, info } = await sharp(file, { ...input, autoOrient: true })
    .resize(base.width, base.height, { fit: 'fill' })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  let bytes = 0;
  for (const variant of DEFAULT_VARIANTS) {
    const preset = DEFAULT_PRESETS[variant];
    const size = variantOutputSize(width, height, preset);
    const image = sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
    const resized =
      preset.fit === 'cover'
        ? image.resize(size.width, size.height, { fit: 'cover', position: sharp.strategy.attention })
        : image.resize(size.width, size.height, { fit: 'fill' });
    const written = await encoding.apply(resized).toFile(path.join(outDir, `${path.basename(file)}.${variant}.${encoding.extension}`));
    bytes += written.size;
  }
  return bytes;
}

/** One vipsthumbnail call per variant (each decodes the original); returns bytes and the peak RSS. */
export async function vipsVariants(file: string, outDir: string): Promise<{ bytes: number; peakKiB: number }> {
  let bytes = 0;
  let peakKiB = 0;
  for (const variant of DEFAULT_VARIANTS) {
    const preset = DEFAULT_PRESETS[variant];
    const out = path.join(outDir, `%s.${variant}.webp[Q=${WEBP.quality},effort=${WEBP.effort},strip]`);
    const crop = preset.fit === 'cover' ? ['-m', 'attention'] : [];
    const args = ['-f', '%M', VIPS_THUMBNAIL, file, '-s', `${preset.width}x${preset.height}`, ...crop, '-o', out];
    const result = await runCommand('/usr/bin/time', args, { timeoutMs: 120_000 });
    if (result.code !== 0) throw new Error(`vipsthumbnail ${variant} ${file}: ${result.stderr}`);
    peakKiB = Math.max(peakKiB, Number(result.stderr.trim().split('\n').at(-1)));
    bytes += (await stat(path.join(outDir, `${path.parse(file).name}.${variant}.webp`))).size;
  }
  return { bytes, peakKiB };
}

/** Loads libvips and its codecs, so the first timed photo does not pay for it. */
async function warmUp(outDir: string): Promise<void> {
  const tiny = path.join(outDir, 'warm-up.jpg');
  await sharp({ create: { width: 640, height: 480, channels: 3, background: '#808080' } }).jpeg().toFile(tiny);
  await sharpCascade(tiny, outDir);
}

export async function runMode(mode: Mode, concurrency: number): Promise<ModeResult> {
  const files = await corpusFiles();
  // Page cache warm for every mode alike, read in small chunks so nothing stays in this heap.
  for (const file of files) for await (const chunk of createReadStream(file)) void chunk;
  const out = await tempFolder(`derivatives-${mode}`);
  try {
    await warmUp(out.dir);
    const baselineRssMiB = megabytes(process.memoryUsage.rss());
    let outputBytes = 0;
    let peakKiB = 0;
    const started = performance.now();
    if (mode === 'keepsake') {
      const derivatives = createDerivatives({
        cacheDir: path.join(out.dir, 'cache'),
        log: createLogger('warn', createWriteStream('/dev/null')),
        concurrency,
        timeLimitMs: 300_000,
      });
      const sources = await Promise.all(files.map(async (file) => {
        const { size, mtimeMs } = await stat(file);
        return { albumPath: CORPUS_ALBUM, name: path.basename(file), size, mtimeMs, read: () => readVerified(path.dirname(file), [path.basename(file)], path.dirname(file)) };
      }));
      const made = await Promise.all(sources.map((source) => derivatives.ensureAll(source, derivatives.variants, 'now')));
      for (const variants of made) for (const file of Object.values(variants)) outputBytes += (await stat(file)).size;
      await derivatives.close();
    } else {
      await mkdir(path.join(out.dir, 'out'), { recursive: true });
      await forEachLimited(files, concurrency, async (file) => {
        if (mode === 'sharp') {
          // Awaited first: `outputBytes += await …` would read the total before another photo adds to it.
          const bytes = await sharpCascade(file, path.join(out.dir, 'out'));
          outputBytes += bytes;
        } else {
          const made = await vipsVariants(file, path.join(out.dir, 'out'));
          outputBytes += made.bytes;
          peakKiB = Math.max(peakKiB, made.peakKiB);
        }
      });
    }
    const seconds = (performance.now() - started) / 1000;
    const ownPeakKiB = process.resourceUsage().maxRSS;
    return {
      mode,
      concurrency,
      images: files.length,
      seconds,
      imagesPerSecond: files.length / seconds,
      peakRssMiB: (mode === 'vips' ? peakKiB : ownPeakKiB) / 1024,
      baselineRssMiB,
      outputBytes,
    };
  } finally {
    await out.remove();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [mode, concurrency] = process.argv.slice(2);
  if (!MODES.includes(mode as Mode)) throw new TypeError(`Expected one of ${MODES.join(', ')} for mode but received ${JSON.stringify(mode)}`);
  const result = await runMode(mode as Mode, Number(concurrency ?? 1));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
