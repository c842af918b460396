import { formatMonthRange } from './dates.js';
import { html, type SafeHtml } from './html.js';
import type { Translator } from './i18n.js';
import type { AlbumView } from './view-models.js';

export function albumHref(albumPath: string): string {
  return `/albums/${albumPath.split('/').map(encodeURIComponent).join('/')}`;
}

/** "12 photos · 2 albums · Jun – Aug 2024", leaving out what is zero or unknown. */
export function albumSummary(album: AlbumView, t: Translator): string {
  const parts: string[] = [];
  if (album.photoCount > 0 || album.albumCount === 0) parts.push(t.t('albums.photos', { count: album.photoCount }));
  if (album.albumCount > 0) parts.push(t.t('albums.albums', { count: album.albumCount }));
  const range = formatMonthRange(album.firstTakenAt, album.lastTakenAt, t.locale);
  if (range !== '') parts.push(range);
  return parts.join(' · ');
}

/**
 * `data-album` and `data-added` let the page script mark albums with photos added since this
 * browser last looked (gallery.js keeps what it has seen in localStorage, never on the server).
 */
function albumCard(album: AlbumView, t: Translator): SafeHtml {
  // The cover is decorative: the link's name is the album title and its summary.
  const cover =
    album.cover === null
      ? html`<span class="cover is-empty" aria-hidden="true"></span>`
      : html`<span class="cover"><img src="${album.cover}" alt="" width="320" height="320" loading="lazy" decoding="async" draggable="false"></span>`;
  const added = album.lastAddedAt ?? null;
  return html`<li class="album-card" data-album="${album.path}"${added === null ? '' : html` data-added="${added}"`}><a href="${albumHref(album.path)}">${cover}<span class="album-title">${album.title}</span><span class="album-meta">${albumSummary(album, t)}</span></a></li>`;
}

export function albumGrid(albums: readonly AlbumView[], t: Translator): SafeHtml {
  return html`<ul class="album-grid">${albums.map((album) => albumCard(album, t))}</ul>`;
}
