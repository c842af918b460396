/**
 * `npm run bench:big-album [-- --photos N] [--rounds N]`: a 10,000-photo album on a phone-sized
 * Chromium (390 × 844, 2× pixels, touch), through the real server in this process. The album is
 * hard links to one 1600 × 1200 photo (each link its own photo to keepsake). Figures, each beside
 * the same for a 200-photo album (one page's worth) on the same server:
 *  - the album page's HTML, as sent: what a phone downloads before it shows anything;
 *  - time from navigation to every thumbnail of the first screen painted, thumbnails not made
 *    yet (cold) and cached (warm);
 *  - time from a scroll to the bottom to the next 200 tiles on the page.
 * Beside them, the whole album's pages summed: what one page holding every photo would weigh.
 */
import { existsSync } from 'node:fs';
import { link, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { PAGE_SIZE } from '../src/ui/paging.js';
import { median, option, positiveNumber, report, tempFolder, type Row } from './common.js';
import { BENCH_GUARD, BENCH_PASSWORD, startBenchServer, type BenchServer } from './keepsake-server.js';

const CHROMIUM = '/usr/bin/chromium';
const BIG = 'Ten Thousand';
const SMALL = 'One Page';
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

interface Visit {
  readonly htmlBytes: number;
  readonly firstScreenMs: number;
  readonly nextPageMs: number | undefined;
}

async function makeAlbum(folder: string, source: string, count: number): Promise<void> {
  await mkdir(folder, { recursive: true });
  for (let start = 0; start < count; start += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, count - start) }, (_, index) => link(source, path.join(folder, `IMG_${String(start + index + 1).padStart(5, '0')}.jpg`))),
    );
  }
}

/** Every thumbnail whose tile is on the first screen has loaded. */
function firstScreenPainted(page: Page): Promise<unknown> {
  return page.waitForFunction(
    () => {
      const images = Array.from(document.querySelectorAll<HTMLImageElement>('.photo-grid img')).filter((image) => image.getBoundingClientRect().top < innerHeight);
      return images.length > 0 && images.every((image) => image.complete && image.naturalWidth > 0);
    },
    undefined,
    { timeout: 120_000, polling: 20 },
  );
}

async function visit(browser: Browser, bench: BenchServer, album: string, measureNextPage: boolean): Promise<Visit> {
  const context = await browser.newContext({ ...PHONE, baseURL: bench.url });
  try {
    const page = await context.newPage();
    await page.goto('/');
    await page.fill('#password', BENCH_PASSWORD);
    await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.click('form[action="/login"] button[type=submit]')]);
    const started = Date.now();
    const response = await page.goto(`/albums/${encodeURIComponent(album)}`, { waitUntil: 'commit' });
    const htmlBytes = (await response?.body())?.length ?? Number.NaN;
    await firstScreenPainted(page);
    const firstScreenMs = Date.now() - started;
    let nextPageMs: number | undefined;
    if (measureNextPage) {
      const before = Date.now();
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      await page.waitForFunction((count) => document.querySelectorAll('.photo-grid .tile').length >= count, 2 * PAGE_SIZE, { timeout: 60_000, polling: 20 });
      nextPageMs = Date.now() - before;
    }
    return { htmlBytes, firstScreenMs, nextPageMs };
  } finally {
    await context.close();
  }
}

/** Every page of the album, fetched by the bench itself: its bytes summed. */
async function allPagesBytes(bench: BenchServer, album: string, photos: number): Promise<number> {
  const cookie = await bench.login();
  let total = 0;
  for (let number = 1; number <= Math.ceil(photos / PAGE_SIZE); number += 1) {
    const answer = await bench.get(`/albums/${encodeURIComponent(album)}?page=${number}`, cookie, { accept: 'text/html' });
    if (answer.status !== 200) throw new Error(`page ${number} answered ${answer.status}`);
    total += answer.body.length;
  }
  return total;
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is not installed (apt-get install chromium)`);
  const photos = option('photos', 10_000, positiveNumber('photos'));
  const rounds = option('rounds', 3, positiveNumber('rounds'));
  const scratch = await tempFolder('big-album');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run'] });
  try {
    const mediaRoot = path.join(scratch.dir, 'media');
    const source = path.join(scratch.dir, 'source.jpg');
    await sharp({ create: { width: 1600, height: 1200, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
      .jpeg({ quality: 85 })
      .toFile(source);
    await makeAlbum(path.join(mediaRoot, BIG), source, photos);
    await makeAlbum(path.join(mediaRoot, SMALL), source, PAGE_SIZE);
    const cold: Record<string, Visit[]> = { [BIG]: [], [SMALL]: [] };
    const warm: Record<string, Visit[]> = { [BIG]: [], [SMALL]: [] };
    let wholeAlbumBytes = 0;
    for (let round = 0; round < rounds; round += 1) {
      // A fresh server (and so an empty derivative cache) per round; the catalogue is made before timing starts.
      const bench = await startBenchServer({ mediaRoot, guard: BENCH_GUARD, logLevel: 'warn' });
      try {
        await bench.server.services.library.idle();
        for (const album of [BIG, SMALL]) {
          // The first visit waited for its first screen, so the second finds those thumbnails made
          // (the queue itself stays busy: new photos get their thumbnails ahead of any visit).
          cold[album]!.push(await visit(browser, bench, album, false));
          warm[album]!.push(await visit(browser, bench, album, album === BIG));
          process.stderr.write(`round ${round + 1}, ${album}: cold ${JSON.stringify(cold[album]!.at(-1))}, warm ${JSON.stringify(warm[album]!.at(-1))}\n`);
        }
        if (round === 0) wholeAlbumBytes = await allPagesBytes(bench, BIG, photos);
      } finally {
        await bench.close();
      }
    }
    const mid = (visits: Visit[], pick: (visit: Visit) => number | undefined) => median(visits.map(pick).filter((value): value is number => value !== undefined));
    const kb = (bytes: number | undefined) => (bytes === undefined ? undefined : bytes / 1024);
    const small = `${PAGE_SIZE}-photo album`;
    const rows: Row[] = [
      { measure: `${photos}-photo album page, HTML`, ours: kb(mid(cold[BIG]!, (v) => v.htmlBytes)), reference: kb(mid(cold[SMALL]!, (v) => v.htmlBytes)), referenceName: small, unit: 'KiB', goal: '≤ 1.1' },
      { measure: `${photos}-photo album, every page summed (one page of all)`, ours: kb(wholeAlbumBytes), reference: kb(mid(cold[BIG]!, (v) => v.htmlBytes)), referenceName: 'its first page', unit: 'KiB' },
      { measure: 'first screen of thumbnails, not yet made', ours: mid(cold[BIG]!, (v) => v.firstScreenMs), reference: mid(cold[SMALL]!, (v) => v.firstScreenMs), referenceName: small, unit: 'ms' },
      { measure: 'first screen of thumbnails, cached', ours: mid(warm[BIG]!, (v) => v.firstScreenMs), reference: mid(warm[SMALL]!, (v) => v.firstScreenMs), referenceName: small, unit: 'ms' },
      { measure: `next ${PAGE_SIZE} tiles after a scroll to the end, cached`, ours: mid(warm[BIG]!, (v) => v.nextPageMs), reference: mid(warm[SMALL]!, (v) => v.firstScreenMs), referenceName: `first screen of the ${small}`, unit: 'ms' },
    ];
    await report('big-album', `A ${photos}-photo album on a phone-sized Chromium (390 × 844, 2×), median of ${rounds}`, rows, { cold, warm, wholeAlbumBytes });
  } finally {
    await browser.close();
    await scratch.remove();
  }
}

await main();
