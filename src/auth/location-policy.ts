/*
 * Where a photo was taken, as much as a key may know. GPS never leaves in image bytes; a key may
 * in addition be told places in the API: `none` (the default: nothing at all), `city` (the
 * position rounded to a tenth of a degree, about 11 km north to south, so a home is never
 * pinpointed), or `exact`, which only a key the admin marks as household may have.
 */

export const LOCATION_POLICIES = ['none', 'city', 'exact'] as const;
export type LocationPolicy = (typeof LOCATION_POLICIES)[number];

/** A `city` position's grid: a tenth of a degree. */
export const CITY_DEGREES = 0.1;

export interface Place {
  readonly latitude: number;
  readonly longitude: number;
  readonly precision: 'city' | 'exact';
}

export function isLocationPolicy(value: unknown): value is LocationPolicy {
  return typeof value === 'string' && (LOCATION_POLICIES as readonly string[]).includes(value);
}

function toGrid(degrees: number): number {
  return Math.round(Math.round(degrees / CITY_DEGREES) * CITY_DEGREES * 10) / 10;
}

/** What a key with `policy` is told of a position: nothing, the rounded one, or the exact one. */
export function placeFor(policy: LocationPolicy, position: { readonly latitude: number; readonly longitude: number } | undefined): Place | undefined {
  if (position === undefined || policy === 'none') return undefined;
  if (policy === 'exact') return { latitude: position.latitude, longitude: position.longitude, precision: 'exact' };
  return { latitude: toGrid(position.latitude), longitude: toGrid(position.longitude), precision: 'city' };
}
