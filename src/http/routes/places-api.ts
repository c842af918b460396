import type { Context } from 'koa';
import { displayOf } from '../display.js';
import { canSeeAlbum, placeFor, type Place } from '../../auth/index.js';
import { CACHE_POLICY } from '../../media-contract.js';
import type { Ui } from '../../ui/index.js';
import { respondNotFound } from '../not-found.js';
import { visitorOf, type Visitor } from '../session.js';
import { libraryFor, type GatedLibrary } from '../visible-library.js';
import { requireVisitor } from './albums-api.js';
import { answerPage, answerPageNotFound, redirectToLogin } from './pages.js';

/*
 * `GET /api/places` and the `/places` page: where the photos a key may see were taken, newest
 * first, as much as its location policy allows (auth/location-policy.ts). A key with policy
 * `none` (the default, and every share link) gets the uniform 404: it is told nothing, not even
 * that places exist.
 */

interface PlaceGroup {
  place: Place;
  photoCount: number;
  firstTakenAt: number;
  lastTakenAt: number;
  readonly albums: Set<string>;
}

/** Where the photos this visitor may see were taken, grouped on the coarse grid, newest first. */
export function placesOf(gated: GatedLibrary, visitor: Visitor) {
  // Grouped on the coarse grid for every policy; an exact key sees the exact place of each group's latest photo.
  const groups = new Map<string, PlaceGroup>();
  const library = libraryFor(gated, visitor);
  for (const album of library.albums()) {
    if (!canSeeAlbum(visitor.albums, album)) continue;
    for (const item of library.listing(album.path)?.items ?? []) {
      const coarse = placeFor('city', item.position);
      const shown = placeFor(visitor.location, item.position);
      if (coarse === undefined || shown === undefined) continue;
      const key = `${coarse.latitude},${coarse.longitude}`;
      let group = groups.get(key);
      if (group === undefined) {
        group = { place: shown, photoCount: 0, firstTakenAt: item.takenAt, lastTakenAt: item.takenAt, albums: new Set<string>() };
        groups.set(key, group);
      }
      group.photoCount += 1;
      group.firstTakenAt = Math.min(group.firstTakenAt, item.takenAt);
      if (item.takenAt >= group.lastTakenAt) [group.place, group.lastTakenAt] = [shown, item.takenAt];
      group.albums.add(album.path);
    }
  }
  return [...groups.values()]
    .sort((a, b) => b.lastTakenAt - a.lastTakenAt)
    .map((group) => ({
      ...group.place,
      photoCount: group.photoCount,
      albums: [...group.albums].sort(),
      firstTakenAt: new Date(group.firstTakenAt).toISOString(),
      lastTakenAt: new Date(group.lastTakenAt).toISOString(),
    }));
}

export function placesApi(deps: { readonly library: GatedLibrary; readonly ui: Ui }) {
  return {
    api(ctx: Context): void {
      const visitor = requireVisitor(ctx);
      if (visitor === undefined) return;
      if (visitor.location === 'none') return respondNotFound(ctx);
      ctx.body = { places: placesOf(deps.library, visitor) };
    },
    page(ctx: Context): void {
      const visitor = visitorOf(ctx);
      if (visitor === undefined) return redirectToLogin(ctx);
      if (visitor.location === 'none') return answerPageNotFound(ctx, deps.ui);
      answerPage(ctx, deps.ui.renderPlacesPage({ display: displayOf(ctx), places: placesOf(deps.library, visitor) }));
    },
  };
}
