/**
 * `node --import tsx bench/formats.ts [-- --photos N]`: what each output format costs per
 * photo (all four default variants, one decode, plain sharp, one at a time) and what it
 * weighs, at keepsake's chosen settings (src/derivatives/formats.ts) beside the encoders'
 * own defaults: WebP q80 effort 2 vs libwebp's effort 4; AVIF q50 effort 0 vs sharp's
 * effort 4; JPEG q80 with mozjpeg vs plain libjpeg-turbo settings.
 */
import { corpusFiles, median, option, positiveNumber, report, tempFolder, type Row } from './common.js';
import { sharpCascade, type Encoding } from './derivative-modes.js';

export interface Setting {
  readonly name: string;
  /** The setting keepsake ships for this format, which the others are compared with. */
  readonly chosen: string;
  readonly encoding: Encoding;
}

export const SETTINGS: readonly Setting[] = [
  { name: 'WebP q80 effort 2 (default)', chosen: 'WebP q80 effort 2 (default)', encoding: { extension: 'webp', apply: (image) => image.webp({ quality: 80, effort: 2 }) } },
  { name: 'WebP q80 effort 4 (libwebp default)', chosen: 'WebP q80 effort 2 (default)', encoding: { extension: 'webp', apply: (image) => image.webp({ quality: 80, effort: 4 }) } },
  { name: 'AVIF q50 effort 0 (chosen)', chosen: 'WebP q80 effort 2 (default)', encoding: { extension: 'avif', apply: (image) => image.avif({ quality: 50, effort: 0 }) } },
  { name: 'AVIF q50 effort 4 (sharp default)', chosen: 'AVIF q50 effort 0 (chosen)', encoding: { extension: 'avif', apply: (image) => image.avif({ quality: 50, effort: 4 }) } },
  { name: 'JPEG q80 mozjpeg (chosen)', chosen: 'WebP q80 effort 2 (default)', encoding: { extension: 'jpg', apply: (image) => image.flatten({ background: '#ffffff' }).jpeg({ quality: 80, mozjpeg: true, progressive: true }) } },
  { name: 'JPEG q80 libjpeg-turbo', chosen: 'JPEG q80 mozjpeg (chosen)', encoding: { extension: 'jpg', apply: (image) => image.flatten({ background: '#ffffff' }).jpeg({ quality: 80 }) } },
];

export interface FormatResult {
  readonly name: string;
  /** Per photo: all four variants, ms. */
  readonly msPerPhoto: readonly number[];
  readonly bytesPerPhoto: readonly number[];
}

export async function measureFormats(photos: number): Promise<FormatResult[]> {
  const files = (await corpusFiles()).filter((file) => file.includes('p12-')).slice(0, photos);
  const out = await tempFolder('formats');
  try {
    // Loads every codec once, outside the timings.
    for (const setting of SETTINGS) await sharpCascade(files[0] as string, out.dir, setting.encoding);
    const results: FormatResult[] = [];
    for (const setting of SETTINGS) {
      const msPerPhoto: number[] = [];
      const bytesPerPhoto: number[] = [];
      for (const file of files) {
        const started = performance.now();
        bytesPerPhoto.push(await sharpCascade(file, out.dir, setting.encoding));
        msPerPhoto.push(performance.now() - started);
      }
      process.stdout.write(`${setting.name}: ${median(msPerPhoto)?.toFixed(0)} ms per photo\n`);
      results.push({ name: setting.name, msPerPhoto, bytesPerPhoto });
    }
    return results;
  } finally {
    await out.remove();
  }
}

export function formatRows(results: readonly FormatResult[]): Row[] {
  const byName = new Map(results.map((result) => [result.name, result]));
  return SETTINGS.flatMap((setting) => {
    const ours = byName.get(setting.name);
    const chosen = byName.get(setting.chosen);
    const kib = (values: readonly number[] | undefined) => (values === undefined ? undefined : (median(values) ?? 0) / 1024);
    return [
      { measure: `${setting.name}: time per photo`, ours: median(ours?.msPerPhoto ?? []), reference: median(chosen?.msPerPhoto ?? []), referenceName: setting.chosen, unit: 'ms' },
      { measure: `${setting.name}: bytes per photo`, ours: kib(ours?.bytesPerPhoto), reference: kib(chosen?.bytesPerPhoto), referenceName: setting.chosen, unit: 'KiB' },
    ];
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const photos = Math.floor(option('photos', 3, positiveNumber('photos')));
  const results = await measureFormats(photos);
  const rows = formatRows(results);
  await report('formats', `Formats: all four variants of ${photos} 12 MP photos, one decode each, one at a time (median per photo)`, rows, { photos, results });
}
