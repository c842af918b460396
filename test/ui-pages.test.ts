import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createUi, type AlbumView, type ItemView, type VisitorView } from '../src/ui/index.js';
import { formatMonthRange } from '../src/ui/dates.js';
import { altText, gridSizes, imageCandidates } from '../src/ui/photo-tiles.js';
import { sortItems } from '../src/ui/display.js';
import { mapPage, pageOf } from '../src/ui/paging.js';
import { displayFor } from './helpers/display.js';

const display = displayFor();

const ui = createUi();
const HOSTILE = '<script>alert(1)</script>"\'&';
const visitor: VisitorView = { label: 'family', token: 'AbCdEfGhIjKl', canDownloadOriginals: true };

function album(overrides: Partial<AlbumView> = {}): AlbumView {
  return {
    path: 'Summer 2024',
    title: 'Summer 2024',
    photoCount: 3,
    albumCount: 1,
    cover: '/AbCdEfGhIjKl/thumb/Summer%202024/beach.webp',
    firstTakenAt: '2024-06-02T10:00:00.000Z',
    lastTakenAt: '2024-08-20T10:00:00.000Z',
    ...overrides,
  };
}

function photo(name: string, width = 4000, height = 3000, variants = ['thumb', 'small', 'medium', 'large', 'original']): ItemView {
  const base = `/AbCdEfGhIjKl`;
  const urls = Object.fromEntries(variants.map((variant) => [variant, `${base}/${variant}/Summer%202024/${encodeURIComponent(name)}.webp`]));
  return { name, type: 'image', width, height, takenAt: '2024-08-12T09:30:00.000Z', urls };
}

function renderAll(honeypotHref?: string): string[] {
  const hostileAlbum = album({ path: `Kids/${HOSTILE}`, title: HOSTILE });
  return [
    ui.renderLoginPage({ display, next: `/albums/${HOSTILE}`, message: HOSTILE }),
    ui.renderAlbumIndex({ display, visitor, albums: [hostileAlbum, album()], honeypotHref }),
    ui.renderAlbumIndex({ display, visitor, albums: [], honeypotHref }),
    ui.renderAlbumPage({ display, visitor, album: hostileAlbum, albums: [album()], items: pageOf([photo(HOSTILE), photo('b.jpg', 3000, 4000)], undefined), honeypotHref }),
  ];
}

describe('sorting and paging an album (pure)', () => {
  const catalogued = [
    { name: 'IMG_10.jpg', takenAt: Date.parse('2024-07-02T10:00:00Z') },
    { name: 'IMG_9.jpg', takenAt: Date.parse('2024-07-02T10:00:00Z') },
    { name: 'beach.jpg', takenAt: Date.parse('2023-01-05T08:00:00Z') },
    { name: 'Attic.jpg', takenAt: Date.parse('2025-03-01T12:00:00Z') },
  ];
  const names = (items: readonly { name: string }[]) => items.map((item) => item.name);

  it('orders catalogue times and the ISO dates shown for them alike, by name where they tie', () => {
    const presented = catalogued.map((item) => ({ name: item.name, takenAt: new Date(item.takenAt).toISOString() }));
    for (const order of ['oldest', 'newest', 'name-asc', 'name-desc'] as const) assert.deepEqual(names(sortItems(catalogued, order)), names(sortItems(presented, order)), order);
    assert.deepEqual(names(sortItems(catalogued, 'oldest')), ['beach.jpg', 'IMG_9.jpg', 'IMG_10.jpg', 'Attic.jpg']);
    assert.deepEqual(names(sortItems(catalogued, 'name-asc')), ['Attic.jpg', 'beach.jpg', 'IMG_9.jpg', 'IMG_10.jpg'], 'numbers in names count as numbers, case aside');
  });

  it('presents only the page shown, keeping where it sits among all of them', () => {
    const page = pageOf(sortItems(catalogued, 'oldest'), '2', 3);
    const shown = mapPage(page, (item) => item.name.toUpperCase());
    assert.deepEqual(shown, { items: ['ATTIC.JPG'], number: 2, count: 2, total: 4, offset: 3 });
  });
});

describe('server-rendered pages', () => {
  it('escape hostile album and file names everywhere', () => {
    for (const page of renderAll('/AbCdEfGhIjKl/trap')) {
      assert.doesNotMatch(page, /<script>alert/);
      assert.doesNotMatch(page, /"'&[^#]/, 'quotes and ampersands are escaped');
    }
  });

  it('contain no external URL', () => {
    for (const page of renderAll()) assert.doesNotMatch(page, /https?:|\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
  });

  it('contain no inline script, inline style or event handler attribute (the CSP forbids them)', () => {
    for (const page of renderAll('/AbCdEfGhIjKl/trap')) {
      for (const tag of page.match(/<script\b[^>]*>[^<]*<\/script>/g) ?? []) assert.match(tag, /^<script type="module" src="\/assets\/[\w.-]+\.js"><\/script>$/);
      assert.equal(page.match(/<script\b/g)?.length ?? 0, page.match(/<script type="module" src="\/assets\/[\w.-]+\.js"><\/script>/g)?.length ?? 0);
      assert.doesNotMatch(page, /<style\b/i);
      assert.doesNotMatch(page, /\sstyle=/i);
      assert.doesNotMatch(page, /\son[a-z]+=/i);
    }
  });

  it('every page asks not to be indexed, and only logged-in pages have a logout button', () => {
    const [login, ...gallery] = renderAll();
    for (const page of [login!, ...gallery]) assert.match(page, /<meta name="robots" content="noindex, nofollow, noimageindex">/);
    assert.doesNotMatch(login!, /action="\/logout"/);
    for (const page of gallery) assert.match(page, /<form class="logout" method="post" action="\/logout">/);
  });

  it('the login page works without script: one password field, remember me, next, an alert', () => {
    const page = ui.renderLoginPage({ display, next: '/albums/Kids', message: 'Too many tries. Wait 30 seconds and try again.' });
    assert.match(page, /<form method="post" action="\/login">/);
    assert.equal(page.match(/type="password"/g)?.length, 1);
    assert.match(page, /name="remember" value="on"/);
    assert.match(page, /<input type="hidden" name="next" value="\/albums\/Kids">/);
    assert.match(page, /role="alert">Too many tries. Wait 30 seconds and try again.</);
    assert.doesNotMatch(page, /<script/);
    assert.doesNotMatch(ui.renderLoginPage({ display, next: '/' }), /role="alert"/);
  });

  it('the album grid serves srcset over the derivatives with a sizes that fits the tile', () => {
    const page = ui.renderAlbumPage({ display, visitor, album: album(), albums: [], items: pageOf([photo('beach.jpg')], undefined) });
    const image = page.match(/<img src="[^"]*small[^"]*" srcset="([^"]+)" sizes="([^"]+)"[^>]*>/);
    assert.ok(image, 'a tile image with srcset and sizes');
    assert.match(image[1]!, /\/small\/\S+ 640w, \S+\/medium\/\S+ 1280w, \S+\/large\/\S+ 2048w$/);
    assert.match(image[2]!, /^auto, \(max-width: 479px\) \d+px,/);
    assert.match(image[0], /width="4000" height="3000" loading="lazy"/);
    assert.match(page, /<a class="tile-link" href="\/AbCdEfGhIjKl\/large\/[^"]+" data-name="beach.jpg" data-width="2048" data-height="1536"/);
  });

  it('srcset widths are the real widths: portrait, small originals (never enlarged), square thumbs', () => {
    assert.deepEqual(imageCandidates(photo('p.jpg', 3000, 4000)).map((candidate) => candidate.width), [480, 960, 1536]);
    assert.deepEqual(imageCandidates(photo('tiny.jpg', 800, 600)).map((candidate) => candidate.width), [640, 800]);
    assert.deepEqual(imageCandidates(photo('sq.jpg', 1000, 1000)).map((candidate) => candidate.width), [320, 640, 1000]);
    assert.deepEqual(imageCandidates(photo('only.jpg', 800, 600, ['original'])), []);
    assert.match(gridSizes(photo('wide.jpg', 4000, 1000)), /\(max-width: 479px\) 479px/);
  });

  it('falls back to the original while no derivative exists', () => {
    const page = ui.renderAlbumPage({ display, visitor, album: album(), albums: [], items: pageOf([photo('only.jpg', 800, 600, ['original'])], undefined) });
    assert.match(page, /<img src="\/AbCdEfGhIjKl\/original\/[^"]+" alt="only"/);
    assert.doesNotMatch(page, /srcset=/);
  });

  it('the download link (data-original) appears only when the key allows originals', () => {
    const withOriginal = ui.renderAlbumPage({ display, visitor, album: album(), albums: [], items: pageOf([photo('a.jpg')], undefined) });
    const without = ui.renderAlbumPage({ display, visitor, album: album(), albums: [], items: pageOf([photo('a.jpg', 4000, 3000, ['thumb', 'small', 'medium', 'large'])], undefined) });
    assert.match(withOriginal, /data-original="\/AbCdEfGhIjKl\/original\//);
    assert.doesNotMatch(without, /data-original=|\/original\//);
  });

  it('the honeypot is a hidden, unfocusable, nofollow link, never an image', () => {
    for (const page of renderAll('/AbCdEfGhIjKl/original/archive.zip').slice(1)) {
      const links = page.match(/<a [^>]*href="\/AbCdEfGhIjKl\/original\/archive.zip"[^>]*>/g) ?? [];
      assert.equal(links.length, 1);
      assert.match(links[0]!, /class="trap"/);
      assert.match(links[0]!, /aria-hidden="true"/);
      assert.match(links[0]!, /tabindex="-1"/);
      assert.match(links[0]!, /rel="nofollow"/);
      assert.doesNotMatch(page, /<img[^>]*archive\.zip/);
      assert.doesNotMatch(page, /<link[^>]*archive\.zip/);
    }
    assert.doesNotMatch(renderAll()[1]!, /class="trap"/, 'no honeypot unless configured');
  });

  it('deterrents are on by default and can be turned off', () => {
    const on = ui.renderAlbumPage({ display, visitor, album: album(), albums: [], items: pageOf([photo('a.jpg')], undefined) });
    const off = ui.renderAlbumPage({ display, visitor, album: album(), albums: [], items: pageOf([photo('a.jpg')], undefined), deterrents: false });
    assert.match(on, /<body class="album-page deterrents"/);
    assert.match(off, /<body class="album-page"/);
    assert.match(on, /draggable="false"/);
  });

  it('the index shows covers, counts, date ranges, and an empty state that names no server path', () => {
    const index = ui.renderAlbumIndex({ display, visitor, albums: [album()] });
    assert.match(index, /<span class="album-title">Summer 2024<\/span><span class="album-meta">3 photos · 1 album · Jun – Aug 2024<\/span>/);
    assert.match(index, /<img src="\/AbCdEfGhIjKl\/thumb\/Summer%202024\/beach.webp" alt=""/);
    const empty = ui.renderAlbumIndex({ display, visitor, albums: [] });
    assert.match(empty, /<h1>No albums yet<\/h1>/);
    assert.doesNotMatch(empty, /<code>|\/srv\//, 'visitors never learn server paths');
  });

  it('album pages have breadcrumbs and put sub-albums before photos', () => {
    const page = ui.renderAlbumPage({ display, visitor, album: album({ path: 'Kids/Alice', title: 'Alice' }), albums: [album()], items: pageOf([photo('a.jpg')], undefined) });
    assert.match(page, /<li><a href="\/">Albums<\/a><\/li><li><a href="\/albums\/Kids">Kids<\/a><\/li><li><span aria-current="page">Alice<\/span>/);
    assert.ok(page.indexOf('class="album-grid"') < page.indexOf('class="photo-grid"'));
  });

  it('words for alt text and dates come from names and capture times', () => {
    assert.equal(altText('sunset_glow-2.jpg'), 'sunset glow 2');
    assert.equal(formatMonthRange('2023-12-30T00:00:00Z', '2024-01-02T00:00:00Z'), 'Dec 2023 – Jan 2024');
    assert.equal(formatMonthRange('2024-08-01T00:00:00Z', '2024-08-31T00:00:00Z'), 'Aug 2024');
    assert.equal(formatMonthRange(null, null), '');
  });

  it('serves its assets under fingerprinted names, PhotoSwipe included', () => {
    for (const name of ['gallery.css', 'gallery.js', 'viewer.js', 'icon.svg', 'photoswipe.js', 'photoswipe-lightbox.js', 'photoswipe.css']) {
      const url = ui.assets.url(name);
      assert.match(url, /^\/assets\/[\w.-]+\.[0-9a-f]{10}\.(css|js|svg)$/);
      assert.ok(ui.assets.find(url)!.body.length > 100);
    }
    for (const name of ['gallery.css', 'photoswipe.css']) {
      assert.doesNotMatch(ui.assets.find(ui.assets.url(name))!.body.toString('utf8'), /https?:|url\(\s*["']?\/\//i);
    }
  });
});
