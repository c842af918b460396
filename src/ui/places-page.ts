import { albumHref } from './album-cards.js';
import type { AssetCatalogue } from './assets.js';
import { formatMonthRange, placeText } from './dates.js';
import type { Display } from './display.js';
import { html } from './html.js';
import { layout } from './layout.js';
import type { PlaceEntryView } from './view-models.js';

/** Where the photos this key may see were taken, newest first, as much as its location policy allows. */
export function placesPage(assets: AssetCatalogue, options: { readonly display: Display; readonly places: readonly PlaceEntryView[] }): string {
  const { t } = options.display;
  const list = options.places.map(
    (place) => html`<li class="place"><h2>${placeText(place, t)}</h2>
<p class="album-meta">${t.t('albums.photos', { count: place.photoCount })} · ${formatMonthRange(place.firstTakenAt, place.lastTakenAt, t.locale)}</p>
<p>${place.albums.map((path, index) => html`${index === 0 ? '' : ', '}<a href="${albumHref(path)}">${path}</a>`)}</p></li>`,
  );
  const body =
    options.places.length === 0
      ? html`<section class="empty-state"><h1>${t.t('places.title')}</h1><p>${t.t('places.empty')}</p></section>`
      : html`<h1>${t.t('places.title')}</h1><ol class="places">${list}</ol>`;
  return layout(assets, { title: t.t('places.title'), body, display: options.display, loggedIn: true, placesLink: true });
}
