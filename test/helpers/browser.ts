import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, utimes } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';

/** Debian's Chromium, as `.ci/run` installs it. */
export const CHROMIUM = '/usr/bin/chromium';
/** The demo photos that ship in the repository's media root (public domain and CC0; see its CREDITS.md). */
export const DEMO_MEDIA_ROOT = fileURLToPath(new URL('../../media-root/', import.meta.url));
const DEMO = {
  cat: 'Around the House/chelsea-the-cat.jpg',
  coffee: 'Around the House/coffee.jpg',
  astronaut: 'Space/astronaut-eileen-collins.jpg',
  hubble: 'Space/hubble-deep-field.jpg',
  falcon: 'Space/Launches/falcon-9-launch.jpg',
} as const;
export const SCREENSHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserUnavailable(): string | undefined {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is not installed (apt-get install chromium)`;
  return undefined;
}

export function launchChromium(): Promise<Browser> {
  // A plain launch uses a fresh temporary profile, removed on close.
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: string[];
}

let axeSource: string | undefined;

/**
 * Runs axe-core in the page and returns the serious and critical violations. The script is
 * evaluated over the DevTools protocol rather than added as a <script> tag, which the
 * page's CSP (script-src 'self') would rightly refuse.
 */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    // A fade still running (the viewer's bar opens over a third of a second) blends text with what is behind it;
    // axe would judge a frame of the fade, so it judges the settled page. Endless animations (a spinner) are left.
    const settling = document.getAnimations().filter((animation) => animation.effect?.getTiming().iterations !== Infinity);
    await Promise.race([Promise.all(settling.map((animation) => animation.finished.catch(() => undefined))), new Promise((resolve) => setTimeout(resolve, 5000))]);
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => ({ id: violation.id, impact: violation.impact, help: violation.help, targets: violation.nodes.map((node) => String(node.target)) }));
  });
}

interface DemoPhoto {
  readonly source: string;
  readonly name: string;
  /** Crop box as fractions of the source: left, top, width, height. */
  readonly crop?: readonly [number, number, number, number];
  readonly flop?: boolean;
  readonly takenAt: string;
}

const LAKE: readonly DemoPhoto[] = [
  { source: DEMO.coffee, name: 'morning coffee.jpg', takenAt: '2024-07-14T08:10:00Z' },
  { source: DEMO.cat, name: 'chelsea on the porch.jpg', takenAt: '2024-07-14T09:30:00Z' },
  { source: DEMO.falcon, name: 'launch from the jetty.jpg', crop: [0.3, 0, 0.45, 1], takenAt: '2024-07-15T19:45:00Z' },
  { source: DEMO.hubble, name: 'night sky.jpg', takenAt: '2024-07-15T23:10:00Z' },
  { source: DEMO.astronaut, name: 'aunt eileen.jpg', takenAt: '2024-07-16T12:00:00Z' },
  { source: DEMO.coffee, name: 'second cup.jpg', crop: [0.2, 0, 0.5, 1], flop: true, takenAt: '2024-07-16T08:05:00Z' },
  { source: DEMO.cat, name: 'cat nap.jpg', crop: [0, 0.1, 1, 0.6], takenAt: '2024-07-17T14:20:00Z' },
  { source: DEMO.hubble, name: 'stars over the lake.jpg', crop: [0, 0.25, 1, 0.45], flop: true, takenAt: '2024-07-17T23:40:00Z' },
  { source: DEMO.falcon, name: 'liftoff.jpg', flop: true, takenAt: '2024-07-18T18:00:00Z' },
  { source: DEMO.astronaut, name: 'portrait.jpg', crop: [0.15, 0, 0.6, 1], takenAt: '2024-07-18T10:15:00Z' },
  { source: DEMO.cat, name: 'whiskers.jpg', flop: true, takenAt: '2024-07-19T16:00:00Z' },
  { source: DEMO.coffee, name: 'last morning.jpg', crop: [0, 0.2, 1, 0.6], takenAt: '2024-07-20T07:50:00Z' },
];

async function writeDemo(file: string, photo: DemoPhoto): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const source = path.join(DEMO_MEDIA_ROOT, photo.source);
  if (photo.crop === undefined && photo.flop !== true) await copyFile(source, file);
  else {
    const { width = 1, height = 1 } = await sharp(source).metadata();
    const [left, top, cropWidth, cropHeight] = photo.crop ?? [0, 0, 1, 1];
    await sharp(source)
      .extract({ left: Math.round(left * width), top: Math.round(top * height), width: Math.round(cropWidth * width), height: Math.round(cropHeight * height) })
      .flop(photo.flop === true)
      .jpeg({ quality: 85 })
      .toFile(file);
  }
  // No EXIF date in these files: the catalogue falls back to the file's mtime.
  const time = new Date(photo.takenAt);
  await utimes(file, time, time);
}

/**
 * A media root that looks like a family's: a summer album of thirteen real photos
 * (crops of the shipped demo photos, in mixed shapes), and the demo albums with a sub-album.
 */
export async function makeDemoMediaRoot(root: string): Promise<void> {
  await mkdir(root, { recursive: true });
  await copyFile(path.join(DEMO_MEDIA_ROOT, 'CREDITS.md'), path.join(root, 'CREDITS.md'));
  for (const photo of LAKE) await writeDemo(path.join(root, 'Summer at the Lake', photo.name), photo);
  // One photo as big as a camera's, so every derivative (up to large, 2048 px) really exists.
  const big = path.join(root, 'Summer at the Lake', 'the lake at dusk.jpg');
  await sharp(path.join(DEMO_MEDIA_ROOT, DEMO.falcon)).resize(3000, 2000).modulate({ hue: 30 }).jpeg({ quality: 80 }).toFile(big);
  await utimes(big, new Date('2024-07-21T20:30:00Z'), new Date('2024-07-21T20:30:00Z'));
  await writeDemo(path.join(root, 'Space', 'hubble deep field.jpg'), { source: DEMO.hubble, name: '', takenAt: '2023-03-02T21:00:00Z' });
  await writeDemo(path.join(root, 'Space', 'eileen collins.jpg'), { source: DEMO.astronaut, name: '', takenAt: '2023-03-04T11:00:00Z' });
  await writeDemo(path.join(root, 'Space', 'Launches', 'falcon 9.jpg'), { source: DEMO.falcon, name: '', takenAt: '2023-05-20T18:00:00Z' });
  await writeDemo(path.join(root, 'Around the House', 'chelsea.jpg'), { source: DEMO.cat, name: '', takenAt: '2022-11-05T10:00:00Z' });
  await writeDemo(path.join(root, 'Around the House', 'coffee.jpg'), { source: DEMO.coffee, name: '', takenAt: '2022-11-06T09:00:00Z' });
}

/**
 * Drawn in the page as plain script text: tsx (esbuild keepNames) would wrap named inner
 * functions of a compiled callback in a `__name` helper that the page does not have.
 */
const RECORD_CANVAS = `async (duration) => {
  const canvas = document.createElement('canvas');
  canvas.width = 320;
  canvas.height = 180;
  const context = canvas.getContext('2d');
  const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType: 'video/webm' });
  const chunks = [];
  recorder.ondataavailable = (event) => chunks.push(event.data);
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start();
  const started = performance.now();
  await new Promise((resolve) => {
    const draw = (now) => {
      const time = (now - started) / 1000;
      context.fillStyle = 'hsl(' + (200 + time * 60) + ', 55%, 40%)';
      context.fillRect(0, 0, 320, 180);
      context.fillStyle = '#ffd27a';
      context.beginPath();
      context.arc(40 + time * 200, 90, 28, 0, Math.PI * 2);
      context.fill();
      if (time < duration) requestAnimationFrame(draw); else resolve();
    };
    requestAnimationFrame(draw);
  });
  recorder.stop();
  await stopped;
  return Array.from(new Uint8Array(await new Blob(chunks).arrayBuffer()));
}`;

/** A short WebM clip recorded from a canvas by the browser itself, so no ffmpeg is needed. */
export async function recordWebm(browser: Browser, seconds = 1.2): Promise<Buffer> {
  const page = await browser.newPage();
  try {
    const bytes = (await page.evaluate(`(${RECORD_CANVAS})(${seconds})`)) as number[];
    return Buffer.from(bytes);
  } finally {
    await page.close();
  }
}
