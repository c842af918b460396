import type { Context } from 'koa';
import { canSeeAlbum, placeFor, type Place } from '../../auth/index.js';
import { libraryFor, type GatedLibrary } from '../visible-library.js';
import { respondNotFound } from '../not-found.js';
import { requireVisitor } from './albums-api.js';

/*
 * `GET /api/places`: where the photos a key may see were taken, newest first, as much as its
 * location policy allows (auth/location-policy.ts). A key with policy `none` (the default, and
 * every share link) gets the uniform 404: it is told nothing, not even that places exist.
 */

interface PlaceGroup {
  place: Place;
  photoCount: number;
  firstTakenAt: number;
  lastTakenAt: number;
  readonly albums: Set<string>;
}

export function placesApi(deps: { readonly library: GatedLibrary }) {
  return function places(ctx: Context): void {
    const visitor = requireVisitor(ctx);
    if (visitor === undefined) return;
    if (visitor.location === 'none') return respondNotFound(ctx);
    // Grouped on the coarse grid for every policy; an exact key sees the exact place of each group's latest photo.
    const groups = new Map<string, PlaceGroup>();
    const library = libraryFor(deps.library, visitor);
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
    const list = [...groups.values()].sort((a, b) => b.lastTakenAt - a.lastTakenAt);
    ctx.body = {
      places: list.map((group) => ({
        ...group.place,
        photoCount: group.photoCount,
        albums: [...group.albums].sort(),
        firstTakenAt: new Date(group.firstTakenAt).toISOString(),
        lastTakenAt: new Date(group.lastTakenAt).toISOString(),
      })),
    };
  };
}
