import type { Translator } from './i18n.js';

/*
 * How this browser wants pages shown: its language, light or dark, and the order of photos.
 * Remembered per browser (cookies the preferences form sets); the http layer reads them.
 */

export const THEMES = ['system', 'light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];

/** Oldest first by default: an album tells its story in order. */
export const SORT_ORDERS = ['oldest', 'newest', 'name-asc', 'name-desc'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];

export function isTheme(value: unknown): value is Theme {
  return typeof value === 'string' && (THEMES as readonly string[]).includes(value);
}

export function isSortOrder(value: unknown): value is SortOrder {
  return typeof value === 'string' && (SORT_ORDERS as readonly string[]).includes(value);
}

export interface Display {
  readonly t: Translator;
  readonly theme: Theme;
  readonly sort: SortOrder;
  /** This page's own path and query: where the preferences form comes back to. */
  readonly path: string;
  /** The server's clock (ISO): what "new since your last visit" is measured against. */
  readonly now: string;
}

const byName = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Two dates taken, as catalogue times (numbers) or ISO strings (whose text order is their time order). */
function byTaken(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Items in the visitor's chosen order; equal dates fall back to the name, so the order is stable.
 * Sort catalogue items, then present only the page shown: a big album is not presented whole.
 */
export function sortItems<T extends { readonly name: string; readonly takenAt: string | number }>(items: readonly T[], order: SortOrder): T[] {
  const compare: Record<SortOrder, (a: T, b: T) => number> = {
    oldest: (a, b) => byTaken(a.takenAt, b.takenAt) || byName.compare(a.name, b.name),
    newest: (a, b) => byTaken(b.takenAt, a.takenAt) || byName.compare(a.name, b.name),
    'name-asc': (a, b) => byName.compare(a.name, b.name),
    'name-desc': (a, b) => byName.compare(b.name, a.name),
  };
  return [...items].sort(compare[order]);
}
