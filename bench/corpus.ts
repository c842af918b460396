/**
 * `npm run bench:corpus [-- --count N]`: a reproducible corpus of photo-like images in
 * `bench/corpus/album/` (git-ignored): N 12-megapixel JPEGs (default 8; every third one
 * with EXIF orientation 6 or 8), two 24-megapixel JPEGs and two PNGs (one with alpha).
 *
 * A flat or smooth image decodes and encodes far faster than a photo, so every image has
 * detail at several scales, all from a seeded generator: a gradient sky and shapes drawn as
 * SVG, then light and texture layers of noise made at 1/80, 1/12 and 1/3 of the size and
 * scaled up, and sensor grain at full size. Files that exist are kept.
 */
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { CORPUS_ALBUM, CORPUS_DIR, forEachLimited, option, positiveNumber } from './common.js';

export interface CorpusImage {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly format: 'jpeg' | 'png';
  readonly seed: number;
  /** EXIF orientation written into the file (the pixels are stored as the camera saw them). */
  readonly orientation?: 6 | 8;
  readonly alpha?: boolean;
}

/** The default corpus: small enough to make in under a minute on two cores. */
export function corpusPlan(count12mp = 8): CorpusImage[] {
  const plan: CorpusImage[] = [];
  for (let index = 1; index <= count12mp; index += 1) {
    const orientation = index % 3 === 0 ? (index % 2 === 0 ? 8 : 6) : undefined;
    plan.push({ name: `p12-${pad(index)}.jpg`, width: 4000, height: 3000, format: 'jpeg', seed: index, ...(orientation ? { orientation } : {}) });
  }
  plan.push({ name: 'p24-01.jpg', width: 6000, height: 4000, format: 'jpeg', seed: 1001 });
  plan.push({ name: 'p24-02.jpg', width: 6000, height: 4000, format: 'jpeg', seed: 1002, orientation: 6 });
  plan.push({ name: 'png-01.png', width: 4000, height: 3000, format: 'png', seed: 2001 });
  plan.push({ name: 'png-02.png', width: 3000, height: 2000, format: 'png', seed: 2002, alpha: true });
  return plan;
}

function pad(index: number): string {
  return String(index).padStart(2, '0');
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Noise centred on 128 (which soft-light and overlay leave unchanged), ±amplitude. */
function noise(random: () => number, width: number, height: number, channels: 1 | 3, amplitude: number): Buffer {
  const data = Buffer.allocUnsafe(width * height * channels);
  for (let index = 0; index < data.length; index += 1) {
    // The sum of two uniforms: a triangle distribution, close enough to sensor noise.
    data[index] = 128 + Math.round((random() + random() - 1) * amplitude);
  }
  return data;
}

/** A noise layer made at `1/divisor` of the size and scaled up: detail at that scale only. */
async function layer(random: () => number, width: number, height: number, divisor: number, channels: 1 | 3, amplitude: number): Promise<Buffer> {
  const small = { width: Math.max(2, Math.round(width / divisor)), height: Math.max(2, Math.round(height / divisor)) };
  const raw = { ...small, channels };
  const image = sharp(noise(random, small.width, small.height, channels, amplitude), { raw });
  if (divisor === 1) return image.blur(0.6).toColourspace('srgb').raw().toBuffer();
  return image.resize(width, height, { kernel: 'cubic' }).toColourspace('srgb').raw().toBuffer();
}

function colour(random: () => number): string {
  const channel = () => Math.floor(40 + random() * 200).toString(16).padStart(2, '0');
  return `#${channel()}${channel()}${channel()}`;
}

/** A sky gradient, a ground, and shapes of many sizes: edges for the encoders, subjects for the crop. */
function scene(random: () => number, width: number, height: number): string {
  const shapes: string[] = [];
  for (let index = 0; index < 70; index += 1) {
    const x = random() * width;
    const y = random() * height;
    const size = (width / 6) * random() ** 2 + width / 200;
    const fill = colour(random);
    const opacity = (0.35 + random() * 0.6).toFixed(2);
    const kind = random();
    if (kind < 0.4) shapes.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${size.toFixed(1)}" fill="${fill}" fill-opacity="${opacity}"/>`);
    else if (kind < 0.75) {
      const angle = (random() * 180).toFixed(1);
      shapes.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(size * 1.6).toFixed(1)}" height="${size.toFixed(1)}" fill="${fill}" fill-opacity="${opacity}" transform="rotate(${angle} ${x.toFixed(1)} ${y.toFixed(1)})"/>`);
    } else {
      const points = Array.from({ length: 5 }, () => `${(x + (random() - 0.5) * size * 2).toFixed(1)},${(y + (random() - 0.5) * size * 2).toFixed(1)}`);
      shapes.push(`<polygon points="${points.join(' ')}" fill="${fill}" fill-opacity="${opacity}" stroke="${colour(random)}" stroke-width="${(width / 800).toFixed(1)}"/>`);
    }
  }
  const horizon = (0.45 + random() * 0.2) * height;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <defs>
    <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${colour(random)}"/><stop offset="1" stop-color="${colour(random)}"/></linearGradient>
    <linearGradient id="ground" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${colour(random)}"/><stop offset="1" stop-color="${colour(random)}"/></linearGradient>
  </defs>
  <rect width="${width}" height="${height}" fill="url(#sky)"/>
  <rect y="${horizon.toFixed(1)}" width="${width}" height="${(height - horizon).toFixed(1)}" fill="url(#ground)"/>
  ${shapes.join('\n  ')}
</svg>`;
}

/** An alpha mask: an opaque ellipse fading to clear at the corners (a cut-out, a sticker). */
function alphaMask(width: number, height: number): Buffer {
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <defs><radialGradient id="a"><stop offset="0.6" stop-color="#fff"/><stop offset="1" stop-color="#000"/></radialGradient></defs>
  <rect width="${width}" height="${height}" fill="url(#a)"/></svg>`);
}

/** Renders one corpus image to a buffer of its final bytes. */
export async function renderImage(image: CorpusImage): Promise<Buffer> {
  const { width, height } = image;
  const random = seededRandom(image.seed);
  const base = await sharp(Buffer.from(scene(random, width, height))).removeAlpha().raw().toBuffer();
  const raw = { width, height, channels: 3 } as const;
  const layers = [
    { input: await layer(random, width, height, 80, 3, 60), raw, blend: 'soft-light' as const },
    { input: await layer(random, width, height, 12, 1, 70), raw, blend: 'overlay' as const },
    { input: await layer(random, width, height, 3, 1, 60), raw, blend: 'soft-light' as const },
    { input: await layer(random, width, height, 1, 1, 40), raw, blend: 'soft-light' as const },
  ];
  // composite() adds an opaque alpha channel; the photo has none (the PNG gets a real one).
  const flat = await sharp(base, { raw }).composite(layers).raw().toBuffer({ resolveWithObject: true });
  let output = sharp(flat.data, { raw: { width, height, channels: flat.info.channels } });
  if (image.alpha === true && flat.info.channels === 4) {
    const mask = await sharp(alphaMask(width, height)).extractChannel(0).raw().toBuffer();
    for (let pixel = 0; pixel < mask.length; pixel += 1) flat.data[pixel * 4 + 3] = mask[pixel] ?? 255;
  } else output = output.removeAlpha();
  if (image.format === 'png') return output.png({ compressionLevel: 6 }).toBuffer();
  // What a phone or camera writes: 4:2:0 baseline JPEG at high quality, with EXIF.
  const exif = { IFD0: { Make: 'keepsake-bench', Model: 'corpus', Software: 'bench/corpus.ts' }, IFD2: { DateTimeOriginal: `2024:07:${pad(1 + (image.seed % 28))} 12:00:00` } };
  let jpeg = output.jpeg({ quality: 92, chromaSubsampling: '4:2:0', mozjpeg: false }).withExif(exif);
  if (image.orientation !== undefined) jpeg = jpeg.withMetadata({ orientation: image.orientation });
  return jpeg.toBuffer();
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then((found) => found.isFile(), () => false);
}

/** Makes the missing files of the plan; returns the names made and kept. */
export async function makeCorpus(plan: readonly CorpusImage[], concurrency = 2): Promise<{ made: string[]; kept: string[] }> {
  const album = path.join(CORPUS_DIR, CORPUS_ALBUM);
  await mkdir(album, { recursive: true });
  const made: string[] = [];
  const kept: string[] = [];
  await forEachLimited(plan, concurrency, async (image) => {
    const file = path.join(album, image.name);
    if (await exists(file)) {
      kept.push(image.name);
      return;
    }
    const started = performance.now();
    const bytes = await renderImage(image);
    // A dot-file while written: an interrupted run leaves nothing that looks finished.
    const temp = path.join(album, `.tmp-${image.name}`);
    await writeFile(temp, bytes);
    await rename(temp, file);
    made.push(image.name);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    process.stdout.write(`${image.name}: ${image.width}×${image.height} ${image.format}${image.orientation ? ` orientation ${image.orientation}` : ''}, ${(bytes.length / 2 ** 20).toFixed(1)} MiB, ${seconds} s\n`);
  });
  return { made, kept };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const count = option('count', 8, positiveNumber('count'));
  const started = performance.now();
  const { made, kept } = await makeCorpus(corpusPlan(Math.floor(count)));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`corpus: ${made.length} made, ${kept.length} kept, in ${path.join(CORPUS_DIR, CORPUS_ALBUM)} (${seconds} s)\n`);
}
