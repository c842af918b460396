import { albumGrid, albumHref, albumSummary } from './album-cards.js';
import type { AssetCatalogue } from './assets.js';
import { SORT_ORDERS, type Display } from './display.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import type { Page } from './paging.js';
import { photoTile } from './photo-tiles.js';
import type { AlbumView, ItemView, VisitorView } from './view-models.js';
import { viewerData } from './viewer-data.js';

export interface LoginPageOptions {
  readonly display: Display;
  readonly message?: string | undefined;
  readonly next: string;
}

/** Works without script: a plain form post; the server answers 401/429 with this page and a message. */
export function loginPage(assets: AssetCatalogue, options: LoginPageOptions): string {
  const { t } = options.display;
  const hasMessage = options.message !== undefined && options.message !== '';
  const body = html`<section class="login" aria-labelledby="login-title">
<h1 id="login-title">${t.t('login.title')}</h1>
<p class="login-lead">${t.t('login.lead')}</p>
<form method="post" action="/login">
${hasMessage ? html`<p class="message" id="login-message" role="alert">${options.message}</p>` : ''}
<label for="password">${t.t('login.password')}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required autofocus${hasMessage ? html` aria-invalid="true" aria-describedby="login-message"` : ''}>
<input type="hidden" name="next" value="${options.next}">
<label class="remember"><input type="checkbox" name="remember" value="on"> ${t.t('login.remember')}</label>
<button type="submit">${t.t('login.submit')}</button>
</form>
</section>`;
  return layout(assets, { title: t.t('login.pageTitle'), body, display: options.display, loggedIn: false, bodyClass: 'login-page' });
}

/** Options every logged-in page shares. */
export interface GalleryPageOptions {
  readonly display: Display;
  readonly visitor: VisitorView;
  /** Make right-click and drag saving harder (default true; configurable per DESIGN.md). */
  readonly deterrents?: boolean | undefined;
  /** A scraper trap link (see layout.ts); absent means none. */
  readonly honeypotHref?: string | undefined;
}

/** The layout fields every logged-in page shares: the account links, the deterrents, the trap. */
export function galleryShell(options: GalleryPageOptions) {
  return {
    display: options.display,
    loggedIn: true,
    placesLink: (options.visitor.location ?? 'none') !== 'none',
    deterrents: options.deterrents ?? true,
    honeypotHref: options.honeypotHref,
  } as const;
}

export interface AlbumIndexOptions extends GalleryPageOptions {
  readonly albums: readonly AlbumView[];
}

export function albumIndexPage(assets: AssetCatalogue, options: AlbumIndexOptions): string {
  const { t } = options.display;
  const body =
    options.albums.length === 0
      ? html`<section class="empty-state"><h1>${t.t('albums.emptyTitle')}</h1><p>${t.t('albums.emptyText')}</p></section>`
      : html`<h1>${t.t('albums.title')}</h1>${albumGrid(options.albums, t)}`;
  return layout(assets, {
    ...galleryShell(options),
    title: t.t('albums.title'),
    body,
    // Script marks new albums and stops right-click saving of covers; the page works without it.
    scripts: ['gallery.js'],
    data: { messages: JSON.stringify(options.display.t.pick(['albums.new'])) },
  });
}

export interface AlbumPageOptions extends GalleryPageOptions {
  readonly album: AlbumView;
  readonly albums: readonly AlbumView[];
  /** This page of the album's photos, in the visitor's order. */
  readonly items: Page<ItemView>;
}

function breadcrumbs(albumPath: string, display: Display): SafeHtml {
  const segments = albumPath.split('/');
  return html`<nav class="breadcrumbs" aria-label="${display.t.t('album.breadcrumbs')}"><ol><li><a href="/">${display.t.t('albums.title')}</a></li>${segments.map((segment, index) =>
    index === segments.length - 1
      ? html`<li><span aria-current="page">${segment}</span></li>`
      : html`<li><a href="${albumHref(segments.slice(0, index + 1).join('/'))}">${segment}</a></li>`,
  )}</ol></nav>`;
}

/** Links to the neighbouring pages (gallery.js follows "more" by itself as the visitor scrolls). */
export function pager(page: Page<unknown>, display: Display, basePath: string): SafeHtml | string {
  if (page.count <= 1) return '';
  const { t } = display;
  const href = (number: number) => `${basePath}?page=${number}`;
  const position = t.t('album.pageOf', { from: page.offset + 1, to: page.offset + page.items.length, total: page.total });
  return html`<nav class="pager" aria-label="${t.t('album.pages')}"><p>${position}</p>${page.number > 1 ? html`<a rel="prev" href="${href(page.number - 1)}">${t.t('album.previousPage')}</a>` : ''}${page.number < page.count ? html`<a rel="next" href="${href(page.number + 1)}">${t.t('album.nextPage')}</a>` : ''}</nav>`;
}

/** The photo order, remembered per browser by the preferences endpoint. */
function sortForm(display: Display): SafeHtml {
  const { t } = display;
  const names = { oldest: 'album.sort.oldest', newest: 'album.sort.newest', 'name-asc': 'album.sort.nameAsc', 'name-desc': 'album.sort.nameDesc' } as const;
  return html`<form class="sort-form" method="post" action="/preferences"><input type="hidden" name="next" value="${display.path}"><label>${t.t('album.sort')} <select name="sort">${SORT_ORDERS.map((order) => html`<option value="${order}"${order === display.sort ? ' selected' : ''}>${t.t(names[order])}</option>`)}</select></label><button type="submit">${t.t('site.save')}</button></form>`;
}

/** One POST makes the ZIP (a link preview or a prefetch never does); what it holds depends on the key. */
function downloadForm(album: AlbumView, options: AlbumPageOptions): SafeHtml {
  const { t } = options.display;
  const what = options.visitor.canDownloadOriginals ? t.t('album.downloadOriginals') : t.t('album.downloadLarge');
  return html`<form class="download-form" method="post" action="/download/${albumHref(album.path).slice('/albums/'.length)}"><button type="submit">${t.t('album.download')}</button> <span class="album-meta">${what}</span></form>`;
}

function albumContent(options: AlbumPageOptions): SafeHtml {
  const { albums, items, display } = options;
  const { t } = display;
  if (albums.length === 0 && items.total === 0) return html`<p class="empty-state">${t.t('album.empty')}</p>`;
  const subAlbums =
    albums.length === 0 ? '' : html`<section class="sub-albums" aria-labelledby="albums-heading"><h2 id="albums-heading">${t.t('album.subAlbums')}</h2>${albumGrid(albums, t)}</section>`;
  const photos =
    items.total === 0
      ? ''
      : html`<section class="photos" aria-labelledby="photos-heading"><h2 id="photos-heading"${albums.length === 0 ? html` class="visually-hidden"` : ''}>${t.t('album.photos')}</h2>
<ul class="photo-grid">${items.items.map((item) => photoTile(item, t))}</ul>${pager(items, display, albumHref(options.album.path))}</section>`;
  return html`${subAlbums}${photos}`;
}

/** Sub-albums first, then the photo grid; the viewer is PhotoSwipe, loaded by gallery.js. */
export function albumPage(assets: AssetCatalogue, options: AlbumPageOptions): string {
  const { album, display } = options;
  const hasPhotos = options.items.total > 0;
  const tools = album.photoCount > 0 ? html`<div class="album-tools">${hasPhotos ? sortForm(display) : ''}${downloadForm(album, options)}</div>` : '';
  const body = html`${breadcrumbs(album.path, display)}<div class="album-head"><h1>${album.title}</h1><p class="album-meta">${albumSummary(album, display.t)}</p>${tools}</div>
${albumContent(options)}`;
  return layout(assets, {
    ...galleryShell(options),
    title: album.title,
    body,
    bodyClass: 'album-page',
    scripts: ['gallery.js'],
    stylesheets: hasPhotos ? ['photoswipe.css'] : [],
    // data-album: the page script records this visit for "new since your last visit".
    data: { ...viewerData(assets, display), album: album.path },
  });
}

export interface ErrorPageOptions {
  readonly display: Display;
  readonly loggedIn: boolean;
}

/** What a person sees for a page that is not there or not theirs: the same words either way. */
export function notFoundPage(assets: AssetCatalogue, options: ErrorPageOptions): string {
  const { t } = options.display;
  const body = html`<section class="empty-state"><h1>${t.t('error.notFoundTitle')}</h1><p>${t.t('error.notFoundText')}</p><p><a href="/">${t.t('error.back')}</a></p></section>`;
  return layout(assets, { title: t.t('error.notFoundTitle'), body, display: options.display, loggedIn: options.loggedIn });
}
