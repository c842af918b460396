import type { AssetCatalogue } from './assets.js';
import { formatMonth } from './dates.js';
import { html } from './html.js';
import { layout } from './layout.js';
import { galleryShell, pager, type GalleryPageOptions } from './pages.js';
import type { Page } from './paging.js';
import { photoTile } from './photo-tiles.js';
import type { ItemView } from './view-models.js';
import { viewerData } from './viewer-data.js';

/** One month of the timeline: `YYYY-MM` and how many photos and videos it holds. */
export interface TimelineMonth {
  readonly month: string;
  readonly count: number;
}

type TimelineOptions = GalleryPageOptions;

function monthHref(month: string): string {
  return `/timeline/${month}`;
}

/** Years, newest first, each with its months newest first: every album the key grants, by date. */
export function timelinePage(assets: AssetCatalogue, options: TimelineOptions & { readonly months: readonly TimelineMonth[] }): string {
  const { display } = options;
  const { t } = display;
  const years = new Map<string, TimelineMonth[]>();
  for (const entry of options.months) {
    const year = entry.month.slice(0, 4);
    years.set(year, [...(years.get(year) ?? []), entry]);
  }
  const list = [...years].map(
    ([year, months]) => html`<li class="timeline-year"><h2 id="year-${year}">${year}</h2><ul class="timeline-months" aria-labelledby="year-${year}">${months.map(
      (entry) => html`<li><a href="${monthHref(entry.month)}">${formatMonth(entry.month, t.locale)}</a> <span class="album-meta">${t.t('albums.photos', { count: entry.count })}</span></li>`,
    )}</ul></li>`,
  );
  const body =
    options.months.length === 0
      ? html`<section class="empty-state"><h1>${t.t('timeline.title')}</h1><p>${t.t('timeline.empty')}</p></section>`
      : html`<h1>${t.t('timeline.title')}</h1><nav aria-label="${t.t('timeline.years')}"><ol class="timeline">${list}</ol></nav>`;
  return layout(assets, {
    ...galleryShell(options),
    title: t.t('timeline.title'),
    body,
    scripts: ['gallery.js'],
  });
}

/** Where a tile of a page that mixes albums is named in the address: album and file name. */
export function timelineKey(item: ItemView & { readonly albumPath: string }): string {
  return `${item.albumPath}/${item.name}`;
}

/** One month's photos from every granted album, oldest first, as an album page shows them. */
export function timelineMonthPage(
  assets: AssetCatalogue,
  options: TimelineOptions & { readonly month: string; readonly items: Page<ItemView & { readonly albumPath: string }> },
): string {
  const { display, items } = options;
  const { t } = display;
  const title = formatMonth(options.month, t.locale);
  const body = html`<nav class="breadcrumbs" aria-label="${t.t('album.breadcrumbs')}"><ol><li><a href="/timeline">${t.t('timeline.title')}</a></li><li><span aria-current="page">${title}</span></li></ol></nav>
<div class="album-head"><h1>${title}</h1><p class="album-meta">${t.t('albums.photos', { count: items.total })}</p></div>
<section class="photos" aria-label="${t.t('album.photos')}"><ul class="photo-grid">${items.items.map((item) => photoTile(item, t, timelineKey(item)))}</ul>${pager(items, display, monthHref(options.month))}</section>`;
  return layout(assets, {
    ...galleryShell(options),
    title,
    body,
    bodyClass: 'album-page',
    scripts: ['gallery.js'],
    stylesheets: ['photoswipe.css'],
    data: viewerData(assets, display),
  });
}
