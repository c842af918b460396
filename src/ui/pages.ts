import { albumGrid, albumHref, albumSummary } from './album-cards.js';
import type { AssetCatalogue } from './assets.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import { photoTile } from './photo-tiles.js';
import type { AlbumView, ItemView, VisitorView } from './view-models.js';

export interface LoginPageOptions {
  readonly message?: string | undefined;
  readonly next: string;
}

/** Works without script: a plain form post; the server answers 401/429 with this page and a message. */
export function loginPage(assets: AssetCatalogue, options: LoginPageOptions): string {
  const hasMessage = options.message !== undefined && options.message !== '';
  const body = html`<section class="login" aria-labelledby="login-title">
<h1 id="login-title">Family photos</h1>
<p class="login-lead">Type the password you were given to open the albums.</p>
<form method="post" action="/login">
${hasMessage ? html`<p class="message" id="login-message" role="alert">${options.message}</p>` : ''}
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required autofocus${hasMessage ? html` aria-invalid="true" aria-describedby="login-message"` : ''}>
<input type="hidden" name="next" value="${options.next}">
<label class="remember"><input type="checkbox" name="remember" value="on"> Remember me on this device</label>
<button type="submit">Open the gallery</button>
</form>
</section>`;
  return layout(assets, { title: 'Log in', body, loggedIn: false, bodyClass: 'login-page' });
}

/** Options every logged-in page shares. */
export interface GalleryPageOptions {
  readonly visitor: VisitorView;
  /** Make right-click and drag saving harder (default true; configurable per DESIGN.md). */
  readonly deterrents?: boolean | undefined;
  /** A scraper trap link (see layout.ts); absent means none. */
  readonly honeypotHref?: string | undefined;
}

export interface AlbumIndexOptions extends GalleryPageOptions {
  readonly albums: readonly AlbumView[];
}

export function albumIndexPage(assets: AssetCatalogue, options: AlbumIndexOptions): string {
  const deterrents = options.deterrents ?? true;
  const body =
    options.albums.length === 0
      ? html`<section class="empty-state"><h1>No albums yet</h1>
<p>There is nothing to see here yet. Whoever runs this gallery adds albums by putting folders of photos into its media folder; they appear here by themselves.</p></section>`
      : html`<h1>Albums</h1>${albumGrid(options.albums)}`;
  return layout(assets, {
    title: 'Albums',
    body,
    loggedIn: true,
    placesLink: (options.visitor.location ?? 'none') !== 'none',
    deterrents,
    honeypotHref: options.honeypotHref,
    // The index needs script only to stop right-click saving of covers.
    scripts: deterrents ? ['gallery.js'] : [],
  });
}

export interface AlbumPageOptions extends GalleryPageOptions {
  readonly album: AlbumView;
  readonly albums: readonly AlbumView[];
  readonly items: readonly ItemView[];
}

function breadcrumbs(albumPath: string): SafeHtml {
  const segments = albumPath.split('/');
  return html`<nav class="breadcrumbs" aria-label="Breadcrumbs"><ol><li><a href="/">Albums</a></li>${segments.map((segment, index) =>
    index === segments.length - 1
      ? html`<li><span aria-current="page">${segment}</span></li>`
      : html`<li><a href="${albumHref(segments.slice(0, index + 1).join('/'))}">${segment}</a></li>`,
  )}</ol></nav>`;
}

function albumContent(albums: readonly AlbumView[], items: readonly ItemView[]): SafeHtml {
  if (albums.length === 0 && items.length === 0) {
    return html`<p class="empty-state">This album is empty.</p>`;
  }
  const subAlbums =
    albums.length === 0
      ? ''
      : html`<section class="sub-albums" aria-labelledby="albums-heading"><h2 id="albums-heading">Albums</h2>${albumGrid(albums)}</section>`;
  const photos =
    items.length === 0
      ? ''
      : html`<section class="photos" aria-labelledby="photos-heading"><h2 id="photos-heading"${albums.length === 0 ? html` class="visually-hidden"` : ''}>Photos</h2>
<ul class="photo-grid">${items.map(photoTile)}</ul></section>`;
  return html`${subAlbums}${photos}`;
}

/** Sub-albums first, then the photo grid; the viewer is PhotoSwipe, loaded by gallery.js. */
export function albumPage(assets: AssetCatalogue, options: AlbumPageOptions): string {
  const { album, albums, items } = options;
  const body = html`${breadcrumbs(album.path)}<div class="album-head"><h1>${album.title}</h1><p class="album-meta">${albumSummary(album)}</p></div>
${albumContent(albums, items)}`;
  return layout(assets, {
    title: album.title,
    body,
    loggedIn: true,
    placesLink: (options.visitor.location ?? 'none') !== 'none',
    bodyClass: 'album-page',
    deterrents: options.deterrents ?? true,
    honeypotHref: options.honeypotHref,
    scripts: ['gallery.js'],
    stylesheets: items.length === 0 ? [] : ['photoswipe.css'],
    data: {
      'viewer-module': assets.url('viewer.js'),
      'lightbox-module': assets.url('photoswipe-lightbox.js'),
      'photoswipe-module': assets.url('photoswipe.js'),
    },
  });
}
