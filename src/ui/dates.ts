/**
 * Dates as a family reads them. Capture times carry no zone of their own (EXIF local time),
 * so they are formatted in UTC: the day printed is the day the catalogue stored, on any server.
 */
const MONTH = new Intl.DateTimeFormat('en-GB', { month: 'short', timeZone: 'UTC' });
const MONTH_YEAR = new Intl.DateTimeFormat('en-GB', { month: 'short', year: 'numeric', timeZone: 'UTC' });
const DAY = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

function parse(iso: string | null | undefined): Date | undefined {
  if (iso === null || iso === undefined) return undefined;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** "Aug 2024", "Jun – Aug 2024", "Dec 2023 – Jan 2024", or "" when nothing is known. */
export function formatMonthRange(firstIso: string | null, lastIso: string | null): string {
  const first = parse(firstIso);
  const last = parse(lastIso) ?? first;
  if (first === undefined || last === undefined) return '';
  const [from, to] = first <= last ? [first, last] : [last, first];
  const fromText = MONTH_YEAR.format(from);
  const toText = MONTH_YEAR.format(to);
  if (fromText === toText) return toText;
  if (from.getUTCFullYear() === to.getUTCFullYear()) return `${MONTH.format(from)} – ${toText}`;
  return `${fromText} – ${toText}`;
}

/** "12 Aug 2024", or "" for a date that does not parse. */
export function formatDay(iso: string): string {
  const date = parse(iso);
  return date === undefined ? '' : DAY.format(date);
}

/** A place as a caption shows it: "near 48.9° N, 2.3° E" (city) or "48.85833° N, 2.29450° E" (exact). */
export function placeText(place: { readonly latitude: number; readonly longitude: number; readonly precision: 'city' | 'exact' }): string {
  const digits = place.precision === 'city' ? 1 : 5;
  const latitude = `${Math.abs(place.latitude).toFixed(digits)}° ${place.latitude < 0 ? 'S' : 'N'}`;
  const longitude = `${Math.abs(place.longitude).toFixed(digits)}° ${place.longitude < 0 ? 'W' : 'E'}`;
  return `${place.precision === 'city' ? 'near ' : ''}${latitude}, ${longitude}`;
}
