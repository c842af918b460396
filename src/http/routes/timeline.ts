import type { Context } from 'koa';
import { canSeeAlbum } from '../../auth/index.js';
import type { Library, MediaItem } from '../../library/index.js';
import { mapPage, pageOf, sortItems, type TimelineMonth, type Ui } from '../../ui/index.js';
import { displayOf } from '../display.js';
import { presentItem, type DerivativeNaming } from '../media-urls.js';
import { visitorOf, type Visitor } from '../session.js';
import { libraryFor, type GatedLibrary } from '../visible-library.js';
import { answerPage, answerPageNotFound, redirectToLogin } from './pages.js';

/*
 * The timeline: every photo and video the key grants, across albums, by the month it was taken.
 * It reads the same listings the album pages read, so it shows nothing an album page would not.
 */

export interface TimelineDeps {
  readonly library: GatedLibrary;
  readonly naming?: DerivativeNaming | undefined;
  readonly ui: Ui;
  readonly deterrents: boolean;
  readonly honeypotFor: (visitor: Visitor) => string | undefined;
}

/** `YYYY-MM` of a capture time (stored as UTC wall-clock time, as dates.ts explains). */
export function monthOf(takenAt: number): string {
  return new Date(takenAt).toISOString().slice(0, 7);
}

function visibleItems(library: Library, visitor: Visitor): MediaItem[] {
  const items: MediaItem[] = [];
  for (const album of library.albums()) {
    if (!canSeeAlbum(visitor.albums, album)) continue;
    items.push(...(library.listing(album.path)?.items ?? []));
  }
  return items;
}

/** Months newest first, each with how many items it holds. */
export function monthsOf(items: readonly Pick<MediaItem, 'takenAt'>[]): TimelineMonth[] {
  const counts = new Map<string, number>();
  for (const item of items) {
    const month = monthOf(item.takenAt);
    counts.set(month, (counts.get(month) ?? 0) + 1);
  }
  return [...counts].map(([month, count]) => ({ month, count })).sort((a, b) => b.month.localeCompare(a.month));
}

const MONTH_PATH = /^\/timeline\/(\d{4}-(?:0[1-9]|1[0-2]))$/;

export function timelineRoutes(deps: TimelineDeps) {
  const { ui, naming, deterrents } = deps;
  return {
    index(ctx: Context): void {
      const visitor = visitorOf(ctx);
      if (visitor === undefined) return redirectToLogin(ctx);
      const months = monthsOf(visibleItems(libraryFor(deps.library, visitor), visitor));
      answerPage(ctx, ui.renderTimeline({ display: displayOf(ctx), visitor, months, deterrents, honeypotHref: deps.honeypotFor(visitor) }));
    },
    month(ctx: Context): void {
      const visitor = visitorOf(ctx);
      if (visitor === undefined) return redirectToLogin(ctx);
      const month = MONTH_PATH.exec(ctx.path)?.[1];
      const chosen = month === undefined ? [] : visibleItems(libraryFor(deps.library, visitor), visitor).filter((item) => monthOf(item.takenAt) === month);
      if (month === undefined || chosen.length === 0) return answerPageNotFound(ctx, ui);
      const display = displayOf(ctx);
      const page = mapPage(pageOf(sortItems(chosen, display.sort), ctx.query['page']), (item) => ({ ...presentItem(visitor, item, naming), albumPath: item.albumPath }));
      answerPage(
        ctx,
        ui.renderTimelineMonth({ display, visitor, month, items: page, deterrents, honeypotHref: deps.honeypotFor(visitor) }),
      );
    },
  };
}
