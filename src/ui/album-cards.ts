import { formatMonthRange } from './dates.js';
import { html, type SafeHtml } from './html.js';
import type { AlbumView } from './view-models.js';

export function albumHref(albumPath: string): string {
  return `/albums/${albumPath.split('/').map(encodeURIComponent).join('/')}`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** "12 photos · 2 albums · Jun – Aug 2024", leaving out what is zero or unknown. */
export function albumSummary(album: AlbumView): string {
  const parts: string[] = [];
  if (album.photoCount > 0 || album.albumCount === 0) parts.push(plural(album.photoCount, 'photo'));
  if (album.albumCount > 0) parts.push(plural(album.albumCount, 'album'));
  const range = formatMonthRange(album.firstTakenAt, album.lastTakenAt);
  if (range !== '') parts.push(range);
  return parts.join(' · ');
}

function albumCard(album: AlbumView): SafeHtml {
  // The cover is decorative: the link's name is the album title and its summary.
  const cover =
    album.cover === null
      ? html`<span class="cover is-empty" aria-hidden="true"></span>`
      : html`<span class="cover"><img src="${album.cover}" alt="" width="320" height="320" loading="lazy" decoding="async" draggable="false"></span>`;
  return html`<li class="album-card"><a href="${albumHref(album.path)}">${cover}<span class="album-title">${album.title}</span><span class="album-meta">${albumSummary(album)}</span></a></li>`;
}

export function albumGrid(albums: readonly AlbumView[]): SafeHtml {
  return html`<ul class="album-grid">${albums.map(albumCard)}</ul>`;
}
