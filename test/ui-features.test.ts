import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { link, mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { CATALOGUES } from '../src/ui/i18n.js';
import { PAGE_SIZE } from '../src/ui/paging.js';
import { browserUnavailable, launchChromium, makeDemoMediaRoot, screenshot, seriousAxeViolations } from './helpers/browser.js';
import { GPS_TRACES, PRIVATE, writeCameraJpeg } from './helpers/exif-photos.js';
import { tempDir, waitUntil } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/*
 * What families expect of a gallery, in a real Chromium: their language, light and dark, the
 * timeline and sorting, photo info from the allow-list only, the slideshow, placeholders, a
 * 10,000-photo album on a phone, "new since your last visit", the home-screen manifest and the
 * album ZIP. One server and one browser for all of it.
 */

const PASSWORD = 'orchard picnic blanket';
const GUEST_PASSWORD = 'only the space pictures';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 860 };
const BIG_ALBUM = 'Ten Thousand';
const BIG_COUNT = 10_000;
/** The big album's first page of HTML: what a phone downloads before it shows anything. */
const BIG_PAGE_BUDGET_BYTES = 400 * 1024;
const unavailable = browserUnavailable();
const en = CATALOGUES.en;
const de = CATALOGUES.de;
const fr = CATALOGUES.fr;

async function logIn(page: Page, password = PASSWORD): Promise<void> {
  await page.goto('/');
  await page.fill('#password', password);
  await Promise.all([page.waitForURL((url) => url.pathname === '/' && !url.search.includes('next')), page.click('form[action="/login"] button[type=submit]')]);
}

async function expectAccessible(page: Page, what: string): Promise<void> {
  assert.deepEqual(await seriousAxeViolations(page), [], `${what}: axe found serious or critical violations`);
}

const albumUrl = (album: string) => `/albums/${album.split('/').map(encodeURIComponent).join('/')}`;
const tileNames = (page: Page) => page.$$eval('.photo-grid a.tile-link', (links) => links.map((link) => (link as HTMLElement).dataset['name'] ?? ''));

/** A thousand files are links to one small photo: the catalogue sees 10,000 photos, the disk holds one. */
async function makeBigAlbum(root: string): Promise<void> {
  const folder = path.join(root, BIG_ALBUM);
  await mkdir(folder, { recursive: true });
  const first = path.join(folder, 'IMG_00001.jpg');
  await sharp({ create: { width: 64, height: 48, channels: 3, background: '#557799' } }).jpeg().toFile(first);
  await utimes(first, new Date('2021-09-10T10:00:00Z'), new Date('2021-09-10T10:00:00Z'));
  for (let start = 2; start <= BIG_COUNT; start += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, BIG_COUNT - start + 1) }, (_, index) => link(first, path.join(folder, `IMG_${String(start + index).padStart(5, '0')}.jpg`))),
    );
  }
}

/**
 * PhotoSwipe takes keys (its arrows) once its opening animation has ended, the moment it shows the
 * slides either side of the first.
 */
async function viewerReady(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const slides = Array.from(document.querySelectorAll<HTMLElement>('.pswp--open .pswp__item'));
    return slides.length > 0 && slides.every((slide) => slide.style.display !== 'none');
  });
}

async function chooseInFooter(page: Page, field: 'lang' | 'theme', value: string): Promise<void> {
  await page.selectOption(`form.preferences select[name=${field}]`, value);
  await Promise.all([page.waitForNavigation(), page.click('form.preferences button[type=submit]')]);
}

if (unavailable !== undefined) {
  if (process.env['CI']) test('gallery features in a real browser', () => assert.fail(`CI must run the browser tests: ${unavailable}`));
  else test('gallery features in a real browser', { skip: unavailable }, () => {});
} else {
  describe('gallery features in a real browser', () => {
    let server: TestServer;
    let browser: Browser;
    let desktop: BrowserContext;
    let page: Page;
    let mediaRoot = '';
    const problems: string[] = [];

    before(async () => {
      mediaRoot = await tempDir('keepsake-features-media-');
      [browser] = await Promise.all([launchChromium(), makeDemoMediaRoot(mediaRoot)]);
      await writeCameraJpeg(path.join(mediaRoot, 'Camera Roll', 'at the bakery.jpg'), { width: 1200, height: 800 });
      server = await startTestServer({
        mediaRoot,
        keys: [
          { label: 'orchard', password: PASSWORD },
          { label: 'visitor', password: GUEST_PASSWORD, albums: ['Space'], canDownloadOriginals: false },
        ],
      });
      desktop = await browser.newContext({ viewport: DESKTOP, baseURL: server.url, colorScheme: 'light', acceptDownloads: true });
      page = await desktop.newPage();
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console: ${message.text()}`);
      });
      await logIn(page);
    });
    after(async () => {
      await browser?.close();
      await server?.close();
      if (mediaRoot !== '') await rm(mediaRoot, { recursive: true, force: true });
    });

    it('speaks German to a de-DE browser on every page, and French once chosen, remembered', async () => {
      const german = await browser.newContext({ viewport: PHONE, baseURL: server.url, locale: 'de-DE' });
      const tab = await german.newPage();
      await tab.goto('/');
      assert.equal(await tab.getAttribute('html', 'lang'), 'de');
      assert.equal(await tab.textContent('h1'), de['login.title']);
      assert.equal(await tab.textContent('form[action="/login"] button'), de['login.submit']);
      await tab.fill('#password', 'wrong');
      await tab.click('form[action="/login"] button');
      assert.equal(await tab.textContent('[role=alert]'), de['login.rejected']);
      await tab.fill('#password', PASSWORD);
      await Promise.all([tab.waitForURL((url) => url.pathname === '/'), tab.click('form[action="/login"] button')]);
      assert.equal(await tab.textContent('main h1'), de['albums.title']);
      assert.equal(await tab.textContent('.site-actions button'), de['site.logout']);
      await tab.goto(albumUrl('Summer at the Lake'));
      assert.ok(((await tab.textContent('.sort-form label')) ?? '').startsWith(de['album.sort']));
      assert.match((await tab.textContent('.album-meta')) ?? '', /13 Fotos · Juli 2024/);
      await tab.click('.photo-grid a.tile-link');
      await tab.waitForSelector('.pswp--open');
      assert.equal(await tab.getAttribute('.pswp__button--close', 'title'), de['viewer.close']);
      assert.equal(await tab.getAttribute('.pswp__button--info-button', 'title'), de['viewer.info']);
      await screenshot(tab, 'features-viewer-german-phone');
      const missing = await tab.goto(albumUrl('No Such Album'));
      assert.equal(missing?.status(), 404);
      assert.equal(await tab.textContent('main h1'), de['error.notFoundTitle']);
      await tab.goto('/timeline');
      assert.equal(await tab.textContent('main h1'), de['timeline.title']);
      await tab.goto('/device');
      assert.equal(await tab.textContent('main h1'), de['device.title']);

      await chooseInFooter(tab, 'lang', 'fr');
      assert.equal(new URL(tab.url()).pathname, '/device', 'the form comes back to the page it was sent from');
      assert.equal(await tab.getAttribute('html', 'lang'), 'fr');
      assert.equal(await tab.textContent('main h1'), fr['device.title']);
      await tab.goto('/');
      assert.equal(await tab.textContent('main h1'), fr['albums.title'], 'the choice is remembered by this browser');
      await german.close();
    });

    it('follows the device into light, switches to dark, and both pass axe at WCAG AA', async () => {
      await page.goto('/');
      assert.equal(await page.getAttribute('html', 'data-theme'), null);
      const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(await background(), 'rgb(246, 245, 242)', 'a light device gets the light theme');
      await expectAccessible(page, 'album index, light');
      await page.goto(albumUrl('Summer at the Lake'));
      await expectAccessible(page, 'album page, light');
      await screenshot(page, 'features-album-light-desktop');

      await chooseInFooter(page, 'theme', 'dark');
      assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
      assert.equal(await background(), 'rgb(15, 16, 18)', 'the browser\'s own choice wins over the device');
      await expectAccessible(page, 'album page, dark');
      await page.goto('/');
      assert.equal(await page.getAttribute('html', 'data-theme'), 'dark', 'remembered');
      await expectAccessible(page, 'album index, dark');
      await screenshot(page, 'features-index-dark-desktop');
      await chooseInFooter(page, 'theme', 'light');
      assert.equal(await background(), 'rgb(246, 245, 242)');
      await expectAccessible(page, 'album index, light by choice');
    });

    it('the timeline lists every granted month, newest first, and only those', async () => {
      await page.goto('/timeline');
      const months = await page.$$eval('.timeline-months a', (links) => links.map((link) => link.getAttribute('href')));
      assert.deepEqual(months, ['/timeline/2024-07', '/timeline/2024-05', '/timeline/2023-05', '/timeline/2023-03', '/timeline/2022-11']);
      assert.deepEqual(await page.$$eval('.timeline-year h2', (headings) => headings.map((heading) => heading.textContent)), ['2024', '2023', '2022']);
      await expectAccessible(page, 'timeline');
      await screenshot(page, 'features-timeline-desktop');
      await page.click('a[href="/timeline/2023-03"]');
      assert.equal(await page.textContent('main h1'), 'March 2023');
      assert.deepEqual((await tileNames(page)).sort(), ['Space/eileen collins.jpg', 'Space/hubble deep field.jpg']);
      await page.click('.photo-grid a.tile-link');
      await page.waitForSelector('.pswp--open');
      await page.keyboard.press('Escape');

      const guest = await browser.newContext({ viewport: PHONE, baseURL: server.url });
      const tab = await guest.newPage();
      await logIn(tab, GUEST_PASSWORD);
      await tab.goto('/timeline');
      assert.deepEqual(await tab.$$eval('.timeline-months a', (links) => links.map((link) => link.getAttribute('href'))), ['/timeline/2023-05', '/timeline/2023-03']);
      const other = await tab.goto('/timeline/2024-07');
      assert.equal(other?.status(), 404, 'a month of albums the key does not grant is not there');
      await guest.close();
    });

    it('sorts an album by date or name, newest or oldest first, remembered by the browser', async () => {
      await page.goto(albumUrl('Summer at the Lake'));
      const byDate = await tileNames(page);
      assert.equal(byDate[0], 'morning coffee.jpg', 'oldest first by default');
      const choose = async (order: string) => {
        await page.selectOption('.sort-form select', order);
        await Promise.all([page.waitForNavigation(), page.click('.sort-form button')]);
      };
      await choose('name-desc');
      const names = await tileNames(page);
      assert.deepEqual(names, [...names].sort((a, b) => b.localeCompare(a, 'en', { numeric: true })));
      await page.reload();
      assert.deepEqual(await tileNames(page), names, 'the order is remembered');
      await choose('newest');
      assert.deepEqual(await tileNames(page), [...byDate].reverse());
      await choose('oldest');
    });

    it('shows a photo\'s camera, lens and exposure, and nothing private from its EXIF', async () => {
      await page.goto(albumUrl('Camera Roll'));
      const html = await page.content();
      for (const secret of [...Object.values(PRIVATE), ...GPS_TRACES.filter((trace) => !/^[0-9.,]+$/.test(trace))]) {
        assert.ok(!html.includes(secret), `the page holds ${secret}`);
      }
      await page.click('.photo-grid a.tile-link');
      await page.waitForSelector('.pswp--open');
      await page.keyboard.press('i');
      await page.waitForSelector('.pswp__info:not([hidden])');
      const rows = await page.$$eval('.pswp__info dt', (terms) => terms.map((term) => [term.textContent, term.nextElementSibling?.textContent]));
      assert.deepEqual(rows, [
        [en['info.taken'], rows[0]?.[1]],
        [en['info.camera'], 'Canon EOS R6'],
        [en['info.lens'], 'RF24-105mm F4 L IS USM'],
        [en['info.exposure'], '1/250 s · ƒ/2.8 · ISO 400 · 50 mm'],
        [en['info.dimensions'], '1,200 × 800 pixels'],
      ]);
      assert.match(rows[0]?.[1] ?? '', /^6 May 2024\D+07:08$/, 'date and time in English (the words between come from Intl)');
      const panel = (await page.textContent('.pswp__info')) ?? '';
      for (const secret of [...Object.values(PRIVATE), '48°', '2°']) assert.ok(!panel.includes(secret), `the info panel shows ${secret}`);
      await expectAccessible(page, 'viewer with photo info');
      await screenshot(page, 'features-photo-info-desktop');
      await page.keyboard.press('Escape');
    });

    it('plays a slideshow that advances, loops and stops, with S and the button', async () => {
      await page.goto(albumUrl('Space'));
      await page.click('.photo-grid a.tile-link');
      await page.waitForSelector('.pswp--open');
      await page.selectOption('.pswp__slideshow-interval', '3');
      const shown = () => page.evaluate(() => decodeURIComponent(location.hash));
      const first = await shown();
      await page.keyboard.press('s');
      assert.equal(await page.getAttribute('.pswp__button--slideshow-button', 'aria-pressed'), 'true');
      await page.waitForFunction((start) => decodeURIComponent(location.hash) !== start, first, { timeout: 6000 });
      const second = await shown();
      // Two photos in the album: the next step wraps around to the first.
      await page.waitForFunction((start) => decodeURIComponent(location.hash) !== start, second, { timeout: 6000 });
      assert.equal(await shown(), first, 'it loops');
      await page.click('.pswp__button--slideshow-button');
      assert.equal(await page.getAttribute('.pswp__button--slideshow-button', 'aria-pressed'), 'false');
      const stoppedAt = await shown();
      await page.waitForTimeout(3800);
      assert.equal(await shown(), stoppedAt, 'paused, it stays');
      assert.equal(await page.evaluate(() => localStorage.getItem('keepsake.slideshow')), '3', 'the interval is remembered');
      await page.keyboard.press('Escape');
    });

    it('paints each tile\'s placeholder before its thumbnail arrives', async () => {
      await waitUntil(
        async () => {
          const response = await page.request.get(`/api/albums/${encodeURIComponent('Summer at the Lake')}`);
          const { items } = (await response.json()) as { items: { placeholder?: string }[] };
          return items.every((item) => typeof item.placeholder === 'string');
        },
        60_000,
        'placeholders for the summer album',
      );
      const slow = await browser.newContext({ viewport: DESKTOP, baseURL: server.url, storageState: await desktop.storageState() });
      const tab = await slow.newPage();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      // Every photo waits until the placeholders have been checked.
      await tab.route(/\/(thumb|small|medium|large)\//, async (route) => {
        await held;
        await route.continue();
      });
      await tab.goto(albumUrl('Summer at the Lake'), { waitUntil: 'domcontentloaded' });
      await tab.waitForSelector('.tile.has-placeholder');
      const painted = await tab.$$eval('.tile', (tiles) =>
        tiles.filter((tile) => tile.getBoundingClientRect().top < innerHeight).map((tile) => [getComputedStyle(tile).backgroundImage.slice(0, 27), (tile.querySelector('img') as HTMLImageElement).complete]),
      );
      assert.ok(painted.length > 3);
      for (const [background, loaded] of painted) {
        assert.equal(background, 'url("data:image/png;base64,');
        assert.equal(loaded, false, 'no thumbnail had arrived yet');
      }
      await screenshot(tab, 'features-placeholders-desktop');
      release();
      await slow.close();
    });

    it('opens a 10,000-photo album on a phone in pages that load as it scrolls', async (t) => {
      // A server of its own: a fresh 10,000-photo drop keeps the catalogue and the thumbnail queue
      // busy for a while, and the other cases need not wait behind that.
      const bigRoot = await tempDir('keepsake-features-big-');
      await makeBigAlbum(bigRoot);
      const big = await startTestServer({ mediaRoot: bigRoot, keys: [{ label: 'orchard', password: PASSWORD }] });
      t.after(async () => {
        await big.close();
        await rm(bigRoot, { recursive: true, force: true });
      });
      const phone = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true, baseURL: big.url });
      const tab = await phone.newPage();
      await logIn(tab);
      const errors: string[] = [];
      tab.on('pageerror', (error) => errors.push(error.message));
      const response = await tab.goto(albumUrl(BIG_ALBUM));
      const weight = (await response?.body())?.length ?? Number.POSITIVE_INFINITY;
      assert.ok(weight < BIG_PAGE_BUDGET_BYTES, `the first page is ${weight} bytes`);
      assert.equal((await tileNames(tab)).length, PAGE_SIZE);
      assert.match((await tab.textContent('.album-meta')) ?? '', /10,000 photos/);
      await screenshot(tab, 'features-big-album-phone');
      for (let pages = 2; pages <= 3; pages += 1) {
        await tab.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
        await tab.waitForFunction((count) => document.querySelectorAll('.photo-grid .tile').length >= count, pages * PAGE_SIZE, { timeout: 15_000 });
      }
      const names = await tileNames(tab);
      assert.equal(new Set(names).size, names.length, 'no photo twice');
      assert.deepEqual(names.slice(0, 3), ['IMG_00001.jpg', 'IMG_00002.jpg', 'IMG_00003.jpg']);
      assert.equal(names[3 * PAGE_SIZE - 1], `IMG_${String(3 * PAGE_SIZE).padStart(5, '0')}.jpg`);
      // The viewer swipes on from the last photo loaded into the page after it.
      const loaded = (await tileNames(tab)).length;
      await tab.click(`.photo-grid a.tile-link[data-name="IMG_${String(loaded).padStart(5, '0')}.jpg"]`);
      await viewerReady(tab);
      await tab.keyboard.press('ArrowRight');
      const following = `#photo=IMG_${String(loaded + 1).padStart(5, '0')}.jpg`;
      await tab.waitForFunction((hash) => decodeURIComponent(location.hash) === hash, following, { timeout: 15_000 });
      assert.deepEqual(errors, []);
      await phone.close();
    });

    it('marks albums with photos added since this browser last looked', async () => {
      const fresh = await browser.newContext({ viewport: DESKTOP, baseURL: server.url, storageState: await desktop.storageState() });
      const tab = await fresh.newPage();
      await tab.goto('/');
      assert.equal(await tab.$$eval('.badge-new', (badges) => badges.length), 0, 'a first visit marks nothing');
      await writeCameraJpeg(path.join(mediaRoot, 'Space', 'new arrival.jpg'), { colour: '#cc6633' });
      await waitUntil(
        async () => {
          const { items } = (await (await tab.request.get('/api/albums/Space')).json()) as { items: { name: string }[] };
          return items.some((item) => item.name === 'new arrival.jpg');
        },
        20_000,
        'the new photo in the catalogue',
      );
      await tab.reload();
      const marked = await tab.$$eval('.album-card:has(.badge-new)', (cards) => cards.map((card) => (card as HTMLElement).dataset['album']));
      assert.deepEqual(marked, ['Space']);
      await screenshot(tab, 'features-new-album-desktop');
      await tab.goto(albumUrl('Space'));
      await tab.goto('/');
      assert.equal(await tab.$$eval('.badge-new', (badges) => badges.length), 0, 'seen now');
      await fresh.close();
    });

    it('can be put on a home screen, and keeps no photo for offline use', async () => {
      const anonymous = await browser.newContext({ baseURL: server.url });
      const tab = await anonymous.newPage();
      await tab.goto('/');
      const href = await tab.getAttribute('link[rel=manifest]', 'href');
      assert.equal(href, '/manifest.webmanifest');
      const manifest = (await (await tab.request.get(href!)).json()) as { name: string; start_url: string; display: string; icons: { src: string; sizes: string; type: string }[] };
      assert.equal(manifest.start_url, '/');
      assert.equal(manifest.display, 'standalone');
      for (const icon of manifest.icons) {
        const answer = await tab.request.get(icon.src);
        assert.equal(answer.status(), 200, icon.src);
        assert.equal(answer.headers()['content-type'], icon.type);
        if (icon.type === 'image/png') {
          const { width, height } = await sharp(await answer.body()).metadata();
          assert.equal(`${width}x${height}`, icon.sizes);
        }
      }
      assert.ok(manifest.icons.some((icon) => icon.sizes === '512x512'));
      await logIn(tab);
      assert.equal(await tab.evaluate(() => navigator.serviceWorker.getRegistrations().then((list) => list.length)), 0, 'no service worker');
      await anonymous.close();
    });

    it('downloads an album as one ZIP from its page', async () => {
      await page.goto(albumUrl('Space'));
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('.download-form button')]);
      assert.equal(download.suggestedFilename(), 'Space.zip');
      const saved = path.join(mediaRoot, '..', `space-${process.pid}.zip`);
      await download.saveAs(saved);
      const listing = execFileSync('unzip', ['-Z1', saved], { encoding: 'utf8' }).trim().split('\n').sort();
      await rm(saved, { force: true });
      assert.deepEqual(listing, ['Launches/falcon 9.jpg', 'eileen collins.jpg', 'hubble deep field.jpg', 'new arrival.jpg']);
      assert.deepEqual(problems, [], 'no script error or failed load on the way');
    });
  });
}
