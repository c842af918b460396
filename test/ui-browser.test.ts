import assert from 'node:assert/strict';
import { rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { tempDir } from './helpers/fixtures.js';
import { browserUnavailable, launchChromium, makeDemoMediaRoot, recordWebm, screenshot, seriousAxeViolations } from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { makeVideo, VIDEO_TOOLS_MISSING } from './helpers/videos.js';

const PASSWORD = 'lake house summer';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };
const ALBUM = 'Summer at the Lake';
const unavailable = browserUnavailable();

/** Every request a page makes, and every CSP violation, failed load or script error it reports. */
function watch(page: Page) {
  const requests: Request[] = [];
  const problems: string[] = [];
  page.on('request', (request) => requests.push(request));
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  return { requests, problems };
}

/** The path of every photo the page asked for (images and media), skipping our own /assets/. */
function mediaPaths(requests: readonly Request[]): string[] {
  return requests
    .filter((request) => ['image', 'media'].includes(request.resourceType()))
    .map((request) => new URL(request.url()))
    .filter((url) => url.protocol !== 'data:' && url.protocol !== 'blob:' && !url.pathname.startsWith('/assets/'))
    .map((url) => url.pathname);
}

async function logIn(page: Page, password = PASSWORD): Promise<void> {
  await page.fill('#password', password);
  await page.check('input[name=remember]');
  await Promise.all([page.waitForURL((url) => url.pathname !== '/login'), page.click('button[type=submit]')]);
}

async function expectAccessible(page: Page, what: string): Promise<void> {
  const violations = await seriousAxeViolations(page);
  assert.deepEqual(violations, [], `${what}: axe found serious or critical violations`);
}

const hashOf = (page: Page) => page.evaluate(() => location.hash);

/** Waits until every image on screen has loaded and decoded (lazy ones below the fold are never asked for). */
async function visibleImagesLoaded(page: Page, selector: string): Promise<void> {
  await page.waitForFunction(
    (query) => Array.from(document.querySelectorAll<HTMLImageElement>(query)).every((image) => image.getBoundingClientRect().top > innerHeight || image.complete),
    selector,
  );
  // decoding="async" may paint a loaded image a frame later: screenshots should not catch that frame.
  await page.$$eval(selector, (images) =>
    Promise.all(images.filter((image) => image.getBoundingClientRect().top < innerHeight).map((image) => (image as HTMLImageElement).decode().catch(() => undefined))),
  );
}

if (unavailable !== undefined) {
  // Missing on a developer machine is a skip; missing in CI is a broken pipeline.
  if (process.env['CI']) test('the gallery in a real browser', () => assert.fail(`CI must run the browser tests: ${unavailable}`));
  else test('the gallery in a real browser', { skip: unavailable }, () => {});
} else {
  describe('the gallery in a real browser', () => {
    let server: TestServer;
    let browser: Browser;
    let desktop: BrowserContext;
    let page: Page;
    let seen: ReturnType<typeof watch>;
    let token = '';
    let mediaRoot = '';

    before(async () => {
      mediaRoot = await tempDir('keepsake-ui-media-');
      [browser] = await Promise.all([launchChromium(), makeDemoMediaRoot(mediaRoot)]);
      const clip = path.join(mediaRoot, 'Around the House', 'garden swing.webm');
      await writeFile(clip, await recordWebm(browser));
      await utimes(clip, new Date('2022-11-07T15:00:00Z'), new Date('2022-11-07T15:00:00Z'));
      // chelsea.jpg becomes a Live Photo: its motion is a short clip of the same name.
      if (VIDEO_TOOLS_MISSING === undefined) {
        const motion = path.join(mediaRoot, 'Around the House', 'chelsea.MOV');
        await makeVideo(motion, { seconds: 2, colour: '0xc08040' });
        await utimes(motion, new Date('2022-11-05T10:00:00Z'), new Date('2022-11-05T10:00:00Z'));
      }
      server = await startTestServer({ mediaRoot, keys: [{ label: 'lake', password: PASSWORD }] });
      desktop = await browser.newContext({ viewport: DESKTOP, baseURL: server.url });
      page = await desktop.newPage();
      seen = watch(page);
    });
    after(async () => {
      await browser?.close();
      await server?.close();
      if (mediaRoot !== '') await rm(mediaRoot, { recursive: true, force: true });
    });

    it('logs in through the form and lands where the visitor was going', async () => {
      await page.goto(`/albums/${encodeURIComponent(ALBUM)}`);
      assert.equal(new URL(page.url()).pathname, '/');
      await page.waitForSelector('#password:focus');
      await screenshot(page, 'login-desktop');
      await expectAccessible(page, 'login page');

      await logIn(page, 'not the password');
      assert.equal(await page.textContent('[role=alert]'), 'That password is not right. Check it and try again.');
      await screenshot(page, 'login-wrong-password-desktop');
      // That 401 was the point; any other failed load later is not.
      seen.problems.splice(0, seen.problems.length, ...seen.problems.filter((problem) => !/status of 401/.test(problem)));
      await expectAccessible(page, 'login page with a message');

      await logIn(page);
      assert.equal(decodeURIComponent(new URL(page.url()).pathname), `/albums/${ALBUM}`);
      token = (await page.evaluate(() => fetch('/api/me').then((response) => response.json()))).token;
      assert.match(token, /^[A-Za-z]{11,17}$/);
    });

    it('lists the albums with covers, counts and dates', async () => {
      await page.goto('/');
      const cards = await page.$$eval('.album-card', (elements) => elements.map((element) => element.textContent?.trim()));
      assert.deepEqual(cards.map((text) => text?.split(/\d/)[0]), [ALBUM, 'Space', 'Around the House']);
      assert.match(cards[0] ?? '', /13 photos · Jul 2024/);
      assert.match(cards[1] ?? '', /2 photos · 1 album · Mar – May 2023/);
      await visibleImagesLoaded(page, '.album-card img');
      await screenshot(page, 'index-desktop');
      await expectAccessible(page, 'album index');
    });

    it('shows an album as justified rows, laid out from the catalogue before images load', async () => {
      await page.click(`.album-card >> text=${ALBUM}`);
      await page.waitForSelector('.photo-grid.is-justified');
      const rows = await page.$$eval('.photo-grid > .tile', (tiles) => {
        const byTop = new Map<number, number>();
        for (const tile of tiles) {
          const box = tile.getBoundingClientRect();
          byTop.set(box.top, Math.max(byTop.get(box.top) ?? 0, box.right));
        }
        const grid = document.querySelector('.photo-grid')!.getBoundingClientRect();
        return { rights: [...byTop.values()], gridRight: grid.right };
      });
      assert.ok(rows.rights.length >= 2, 'more than one row');
      for (const right of rows.rights.slice(0, -1)) assert.ok(Math.abs(right - rows.gridRight) <= 1, 'full rows end flush with the grid');
      await visibleImagesLoaded(page, '.photo-grid img');
      await screenshot(page, 'album-desktop');
      await expectAccessible(page, 'album page');
    });

    it('opens the viewer, follows the arrows in the address, closes with Esc and Back', async () => {
      const names = await page.$$eval('.tile-link', (links) => links.map((link) => (link as HTMLElement).dataset['name']));
      await page.click('.tile-link >> nth=0');
      await page.waitForSelector('.pswp--open .pswp__img:not(.pswp__img--placeholder)');
      assert.equal(await hashOf(page), `#photo=${encodeURIComponent(names[0]!)}`);
      await page.keyboard.press('ArrowRight');
      await page.waitForFunction((name) => location.hash === `#photo=${encodeURIComponent(name)}`, names[1]!);
      assert.match((await page.textContent('.pswp__caption')) ?? '', /chelsea on the porch · 14 Jul 2024/);
      await expectAccessible(page, 'viewer');

      await page.keyboard.press('Escape');
      await page.waitForSelector('.pswp', { state: 'detached' });
      await page.waitForFunction(() => location.hash === '');

      // Keyboard only: Tab to a tile, Enter opens it; Back closes it; a reload reopens it.
      await page.focus('.tile-link >> nth=2');
      await page.keyboard.press('Enter');
      await page.waitForSelector('.pswp--open');
      await page.goBack();
      await page.waitForSelector('.pswp', { state: 'detached' });
      assert.equal(await hashOf(page), '');
      assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement).dataset['name']), names[2], 'focus returns to the tile');
      await page.goto(`/albums/${encodeURIComponent(ALBUM)}#photo=${encodeURIComponent(names[3]!)}`);
      await page.reload();
      await page.waitForSelector('.pswp--open');
      assert.equal(await page.evaluate(() => document.querySelector('.pswp__caption')?.textContent), `${names[3]!.replace('.jpg', '')} · 15 Jul 2024`);
      await page.goBack();
      await page.waitForSelector('.pswp', { state: 'detached' });
    });

    it('shows a big photo from the large variant on a desktop, with the original to download', async () => {
      await page.click('.tile-link >> nth=-1');
      await page.waitForSelector('.pswp--open .pswp__img:not(.pswp__img--placeholder)');
      const src = await page.waitForFunction(() => {
        const image = document.querySelector('.pswp__item:not([aria-hidden=true]) .pswp__img:not(.pswp__img--placeholder)') as HTMLImageElement | null;
        return image?.complete ? image.currentSrc : undefined;
      });
      // The viewer (or its preloading of neighbours, earlier) took large for a 1440 px screen; the grid never does.
      assert.match(String(await src.jsonValue()), /\/large\/Summer%20at%20the%20Lake\/the%20lake%20at%20dusk/);
      await page.waitForTimeout(300);
      await screenshot(page, 'viewer-desktop');
      const download = page.locator('.pswp__button--download-button');
      assert.match((await download.getAttribute('href')) ?? '', new RegExp(`^/${token}/original/`));
      assert.equal(await download.getAttribute('download'), '');
      await page.keyboard.press('Escape');
      await page.waitForSelector('.pswp', { state: 'detached' });
    });

    it('plays videos inline in the viewer, with native controls', async () => {
      await page.goto(`/albums/${encodeURIComponent('Around the House')}`);
      const tile = page.locator('.tile.is-video .tile-link');
      assert.match((await tile.textContent())?.replace(/\s+/g, ' ').trim() ?? '', /^garden swing \(video\)(, \d+:\d\d)?$/, 'the link is named by its text');
      // Once the grid has read the clip's metadata, its tile takes the clip's shape (320×180).
      await page.waitForFunction(() => (document.querySelector('.is-video .tile-link') as HTMLElement | null)?.dataset['width'] === '320');
      const box = (await page.locator('.tile.is-video').boundingBox())!;
      assert.ok(Math.abs(box.width / box.height - 16 / 9) < 0.05, `tile is 16:9, got ${box.width}×${box.height}`);
      await tile.click();
      const video = page.locator('.pswp--open .pswp__video video');
      await video.waitFor();
      assert.equal(await video.evaluate((element) => (element as HTMLVideoElement).controls), true);
      await page.waitForFunction(() => (document.querySelector('.pswp__video video') as HTMLVideoElement | null)!.readyState >= 1);
      assert.match(await video.evaluate((element) => (element as HTMLVideoElement).currentSrc), new RegExp(`^${server.url.replace(/\/$/, '')}/${token}/`));
      await expectAccessible(page, 'video slide');
      await page.keyboard.press('Escape');
      await page.waitForSelector('.pswp', { state: 'detached' });
      await page.goto(`/albums/${encodeURIComponent(ALBUM)}`);
    });

    it('shows a video\'s poster in the grid and the viewer, and plays a Live Photo\'s motion on hover', { skip: process.env['CI'] ? false : VIDEO_TOOLS_MISSING }, async () => {
      await page.goto(`/albums/${encodeURIComponent('Around the House')}`);
      assert.equal(await page.locator('.tile-link[data-name="chelsea.MOV"]').count(), 0, 'the motion clip is no tile of its own');
      const poster = page.locator('.tile.is-video img');
      await poster.waitFor();
      await page.waitForFunction(() => (document.querySelector('.tile.is-video img') as HTMLImageElement | null)?.naturalWidth! > 0);
      assert.match((await poster.getAttribute('src')) ?? '', new RegExp(`^/${token}/(thumb|small|medium|large)/`), 'the grid shows the poster derivative');
      const live = page.locator('.tile-link[data-name="chelsea.jpg"]');
      assert.equal(await live.locator('.tile-live').count(), 1, 'the grid marks the Live Photo');
      await live.click();
      await page.waitForSelector('.pswp--open .pswp__img:not(.pswp__img--placeholder)');
      const button = page.locator('.pswp__button--live-button');
      assert.equal(await button.isVisible(), true, 'the viewer offers the motion');
      await expectAccessible(page, 'Live Photo slide');
      await button.hover();
      const motion = page.locator('.pswp__motion');
      await motion.waitFor();
      await page.waitForFunction(() => (document.querySelector('.pswp__motion') as HTMLVideoElement | null)!.currentTime > 0.2, undefined, { timeout: 10_000 });
      assert.match(await motion.evaluate((element) => (element as HTMLVideoElement).currentSrc), new RegExp(`/${token}/playable/`), 'the motion plays from its playable copy, through the session token');
      await page.mouse.move(5, 5);
      await motion.waitFor({ state: 'detached' });
      await page.keyboard.press('ArrowRight');
      await page.waitForFunction(() => document.querySelector('.pswp__button--live-button')?.hasAttribute('hidden'), undefined, { timeout: 5_000 });
      await page.keyboard.press('Escape');
      await page.waitForSelector('.pswp', { state: 'detached' });
      await page.locator('.tile.is-video .tile-link').click();
      const video = page.locator('.pswp--open .pswp__video video');
      await video.waitFor();
      assert.match((await video.getAttribute('poster')) ?? '', new RegExp(`^/${token}/`), 'the viewer shows the poster while the video loads');
      assert.match((await video.getAttribute('src')) ?? '', new RegExp(`^/${token}/playable/.+\\.mp4$`), 'the viewer plays the playable copy');
      await video.evaluate((element) => {
        const player = element as HTMLVideoElement;
        player.muted = true;
        return player.play();
      });
      await page.waitForFunction(() => (document.querySelector('.pswp__video video') as HTMLVideoElement | null)!.currentTime > 0.2, undefined, { timeout: 10_000 });
      await page.keyboard.press('Escape');
      await page.waitForSelector('.pswp', { state: 'detached' });
      await page.goto(`/albums/${encodeURIComponent(ALBUM)}`);
    });

    it('stops right-click and drag on photos, in the grid and in the viewer', async () => {
      const prevented = (selector: string, type: string) =>
        page.$eval(selector, (element, eventType) => !element.dispatchEvent(new MouseEvent(eventType, { bubbles: true, cancelable: true })), type);
      assert.equal(await prevented('.photo-grid img', 'contextmenu'), true);
      assert.equal(await prevented('.photo-grid img', 'dragstart'), true);
      assert.equal(await prevented('.album-head h1', 'contextmenu'), false, 'text is left alone');
      await page.click('.tile-link >> nth=1');
      await page.waitForSelector('.pswp--open .pswp__img:not(.pswp__img--placeholder)');
      assert.equal(await prevented('.pswp__img', 'contextmenu'), true);
      await page.keyboard.press('Escape');
      await page.waitForSelector('.pswp', { state: 'detached' });
      assert.equal(await page.$eval('.photo-grid img', (image) => getComputedStyle(image).userSelect), 'none');
    });

    it('fetched every photo through the session token, and nothing from another host', async () => {
      const paths = mediaPaths(seen.requests);
      assert.ok(paths.length > 10);
      for (const pathname of paths) assert.ok(pathname.startsWith(`/${token}/`), `${pathname} is under the token`);
      for (const request of seen.requests) {
        const url = new URL(request.url());
        if (url.protocol === 'data:' || url.protocol === 'blob:') continue;
        assert.equal(url.origin, server.url.replace(/\/$/, ''), `${request.url()} is same-origin`);
      }
      assert.deepEqual(seen.problems, [], 'no CSP violation or script error');
    });

    it('serves HTML and CSS without any external URL', async () => {
      for (const target of ['/', `/albums/${encodeURIComponent(ALBUM)}`]) {
        const html = await page.evaluate((url) => fetch(url).then((response) => response.text()), target);
        assert.doesNotMatch(html, /https?:\/\//, target);
        const sheets = [...html.matchAll(/<link rel="stylesheet" href="([^"]+)">/g)].map((match) => match[1]!);
        assert.ok(sheets.length > 0);
        for (const sheet of sheets) {
          const css = await page.evaluate((url) => fetch(url).then((response) => response.text()), sheet);
          assert.doesNotMatch(css, /https?:\/\/|url\(\s*['"]?\/\//, sheet);
        }
      }
    });

    it('on a 360 px phone the grid loads only small variants, never large', async () => {
      const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, baseURL: server.url, isMobile: true, hasTouch: true });
      await phone.addCookies(await desktop.cookies());
      const narrow = await phone.newPage();
      const narrowSeen = watch(narrow);
      await narrow.goto(`/albums/${encodeURIComponent(ALBUM)}`);
      const listing = await narrow.evaluate((album) => fetch(`/api/albums/${encodeURIComponent(album)}`).then((answer) => answer.json()), ALBUM);
      assert.ok(listing.items[0].urls.small, 'the server lists derivatives (urls.small)');
      await narrow.waitForSelector('.photo-grid.is-justified');
      await narrow.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      await narrow.waitForFunction(() => Array.from(document.querySelectorAll('.photo-grid img')).every((image) => (image as HTMLImageElement).complete));
      const variants = new Set(mediaPaths(narrowSeen.requests).map((pathname) => pathname.split('/')[2]));
      assert.ok(variants.size > 0);
      for (const variant of variants) assert.ok(variant === 'thumb' || variant === 'small', `the grid loaded ${variant}`);
      await phone.close();
    });

    it('looks right on a phone: login, album and viewer', async () => {
      const phone = await browser.newContext({ viewport: PHONE, baseURL: server.url, isMobile: true, hasTouch: true });
      const small = await phone.newPage();
      await small.goto('/');
      await screenshot(small, 'login-phone');
      await logIn(small);
      await visibleImagesLoaded(small, '.album-card img');
      await screenshot(small, 'index-phone');
      await small.goto(`/albums/${encodeURIComponent(ALBUM)}`);
      await visibleImagesLoaded(small, '.photo-grid img');
      await screenshot(small, 'album-phone');
      await small.tap('.tile-link >> nth=-1');
      await small.waitForSelector('.pswp--open .pswp__img:not(.pswp__img--placeholder)');
      await small.waitForTimeout(400);
      await screenshot(small, 'viewer-phone');
      await phone.close();
    });

    it('after logout, a photo URL seen before answers 404 and Back shows no photos', async () => {
      const photo = await page.$eval('.photo-grid img', (image) => (image as HTMLImageElement).currentSrc);
      // Past the browser's cache: the question is what the server still hands out.
      const status = (url: string) => page.evaluate((target) => fetch(target, { cache: 'no-store' }).then((response) => response.status), url);
      assert.equal(await status(photo), 200);
      await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.click('.logout button')]);
      await page.waitForSelector('#password');
      assert.equal(await status(photo), 404);
      await page.goBack();
      await page.waitForSelector('#password');
      assert.equal(await page.locator('.photo-grid').count(), 0);
    });
  });
}
