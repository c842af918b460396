/*
 * Big albums come in pages: a phone opens a 10,000-photo album as fast as a 200-photo one. Without
 * script the pager's links walk the pages; with script gallery.js fetches the next page as the
 * visitor nears the end of the grid and appends its tiles.
 */

/** Enough for several screens of thumbnails on any display; a page of HTML stays near 200 KB. */
export const PAGE_SIZE = 200;

export interface Page<T> {
  readonly items: readonly T[];
  /** 1-based. */
  readonly number: number;
  readonly count: number;
  readonly total: number;
  /** Index of the first item on this page within all of them. */
  readonly offset: number;
}

/** The same page with each item turned into another (what is shown of it). */
export function mapPage<T, U>(page: Page<T>, present: (item: T) => U): Page<U> {
  return { ...page, items: page.items.map(present) };
}

/** The page asked for (`?page=`), clamped to the pages there are; anything unreadable is page 1. */
export function pageOf<T>(all: readonly T[], asked: unknown, size: number = PAGE_SIZE): Page<T> {
  const count = Math.max(1, Math.ceil(all.length / size));
  const wanted = typeof asked === 'string' && /^[1-9][0-9]{0,6}$/.test(asked) ? Number(asked) : 1;
  const number = Math.min(wanted, count);
  const offset = (number - 1) * size;
  return { items: all.slice(offset, offset + size), number, count, total: all.length, offset };
}
