import { DEFAULT_LOCALE, type Locale, type Translator } from './i18n.js';

/**
 * Dates as a family reads them, in their language. Capture times carry no zone of their own
 * (EXIF local time), so they are formatted in UTC: the day printed is the day the catalogue
 * stored, on any server.
 */

/** English dates as keepsake has always written them: "12 Aug 2024". */
const INTL_TAG: Readonly<Partial<Record<Locale, string>>> = { en: 'en-GB' };

type Style = 'month' | 'monthYear' | 'longMonthYear' | 'day' | 'dayTime' | 'year';
const STYLES: Readonly<Record<Style, Intl.DateTimeFormatOptions>> = {
  month: { month: 'short' },
  monthYear: { month: 'short', year: 'numeric' },
  longMonthYear: { month: 'long', year: 'numeric' },
  day: { day: 'numeric', month: 'short', year: 'numeric' },
  dayTime: { day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit' },
  year: { year: 'numeric' },
};

const formats = new Map<string, Intl.DateTimeFormat>();

function formatter(locale: Locale, style: Style): Intl.DateTimeFormat {
  const key = `${locale}:${style}`;
  let format = formats.get(key);
  if (format === undefined) {
    format = new Intl.DateTimeFormat(INTL_TAG[locale] ?? locale, { ...STYLES[style], timeZone: 'UTC' });
    formats.set(key, format);
  }
  return format;
}

function parse(iso: string | null | undefined): Date | undefined {
  if (iso === null || iso === undefined) return undefined;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** "Aug 2024", "Jun – Aug 2024", "Dec 2023 – Jan 2024", or "" when nothing is known. */
export function formatMonthRange(firstIso: string | null, lastIso: string | null, locale: Locale = DEFAULT_LOCALE): string {
  const first = parse(firstIso);
  const last = parse(lastIso) ?? first;
  if (first === undefined || last === undefined) return '';
  const [from, to] = first <= last ? [first, last] : [last, first];
  const fromText = formatter(locale, 'monthYear').format(from);
  const toText = formatter(locale, 'monthYear').format(to);
  if (fromText === toText) return toText;
  if (from.getUTCFullYear() === to.getUTCFullYear()) return `${formatter(locale, 'month').format(from)} – ${toText}`;
  return `${fromText} – ${toText}`;
}

/** "12 Aug 2024", or "" for a date that does not parse. */
export function formatDay(iso: string, locale: Locale = DEFAULT_LOCALE): string {
  const date = parse(iso);
  return date === undefined ? '' : formatter(locale, 'day').format(date);
}

/** "12 August 2024, 14:05": the viewer's photo info. */
export function formatDayTime(iso: string, locale: Locale = DEFAULT_LOCALE): string {
  const date = parse(iso);
  return date === undefined ? '' : formatter(locale, 'dayTime').format(date);
}

/** "August 2024" for a `YYYY-MM` month of the timeline. */
export function formatMonth(month: string, locale: Locale = DEFAULT_LOCALE): string {
  const date = parse(`${month}-01T00:00:00Z`);
  return date === undefined ? month : formatter(locale, 'longMonthYear').format(date);
}

/** The coordinates of a place: "48.9° N, 2.3° E" (city) or "48.85833° N, 2.29450° E" (exact). */
export function coordinatesText(place: { readonly latitude: number; readonly longitude: number; readonly precision: 'city' | 'exact' }): string {
  const digits = place.precision === 'city' ? 1 : 5;
  const latitude = `${Math.abs(place.latitude).toFixed(digits)}° ${place.latitude < 0 ? 'S' : 'N'}`;
  const longitude = `${Math.abs(place.longitude).toFixed(digits)}° ${place.longitude < 0 ? 'W' : 'E'}`;
  return `${latitude}, ${longitude}`;
}

/** A place as a caption shows it: "near 48.9° N, 2.3° E" for a city, the coordinates when exact. */
export function placeText(place: { readonly latitude: number; readonly longitude: number; readonly precision: 'city' | 'exact' }, t: Translator): string {
  const coordinates = coordinatesText(place);
  return place.precision === 'city' ? t.t('places.near', { place: coordinates }) : coordinates;
}
