import type { AssetCatalogue } from './assets.js';
import { formatMonthRange, placeText } from './dates.js';
import { html } from './html.js';
import { layout } from './layout.js';
import type { PlaceEntryView } from './view-models.js';

function albumLink(path: string) {
  return html`<a href="/albums/${path.split('/').map(encodeURIComponent).join('/')}">${path}</a>`;
}

/** Where the photos this key may see were taken, newest first, as much as its location policy allows. */
export function placesPage(assets: AssetCatalogue, options: { readonly places: readonly PlaceEntryView[] }): string {
  const list = options.places.map(
    (place) => html`<li class="place"><h2>${placeText(place)}</h2>
<p class="album-meta">${place.photoCount} ${place.photoCount === 1 ? 'photo' : 'photos'} · ${formatMonthRange(place.firstTakenAt, place.lastTakenAt)}</p>
<p>${place.albums.map((path, index) => html`${index === 0 ? '' : ', '}${albumLink(path)}`)}</p></li>`,
  );
  const body =
    options.places.length === 0
      ? html`<section class="empty-state"><h1>Places</h1><p>None of the photos here says where it was taken.</p></section>`
      : html`<h1>Places</h1><ol class="places">${list}</ol>`;
  return layout(assets, { title: 'Places', body, loggedIn: true, placesLink: true });
}
