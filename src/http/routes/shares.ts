import type { Context } from 'koa';
import type { Access, ShareCheck } from '../../access/index.js';
import type { Logger } from '../../log.js';
import { CACHE_POLICY, encodePath } from '../../media-contract.js';
import type { Ui } from '../../ui/index.js';
import { isSameOriginRequest } from '../same-origin.js';
import { answerCardPage, type Words } from './card-page.js';
import { formatDay } from '../../ui/index.js';
import { localeOf } from '../display.js';
import { startSession } from '../session.js';

export interface ShareDeps {
  readonly publicUrl: string | undefined;
  readonly log: Logger;
  readonly ui: Ui;
  readonly access: Access;
}

const NOT_VALID = { status: 404, title: 'share.invalidTitle', message: 'share.invalidText' } as const;
const NOT_OPEN = { status: 410, title: 'share.closedTitle', message: 'share.closedText' } as const;

/**
 * Signed share links (`/s/<payload>.<mac>`): GET shows a page with a button, POST opens an
 * ordinary session limited to the album, ending no later than the link. A tampered,
 * expired, revoked or used-up link gets a clear page and no session.
 */
export function shareRoutes(deps: ShareDeps) {
  const page = (ctx: Context, status: number, title: Words, message: Words, action?: string): void => answerCardPage(ctx, deps.ui, { status, title, message, action });

  async function check(ctx: Context): Promise<ShareCheck> {
    const checked = await deps.access.checkShareLink(ctx.path);
    if (checked.state !== 'open') deps.log.warn({ address: ctx.ip, reason: checked.reason }, 'share link refused');
    return checked;
  }

  function closed(ctx: Context, checked: Exclude<ShareCheck, { state: 'open' }>): void {
    const answer = checked.state === 'closed' ? NOT_OPEN : NOT_VALID;
    page(ctx, answer.status, answer.title, answer.message);
  }

  return {
    async show(ctx: Context): Promise<void> {
      const checked = await check(ctx);
      if (checked.state !== 'open') return closed(ctx, checked);
      const until = formatDay(new Date(checked.share.expiresAt).toISOString(), localeOf(ctx));
      page(ctx, 200, 'share.title', ['share.until', { date: until }], ctx.path);
    },
    async open(ctx: Context): Promise<void> {
      if (!isSameOriginRequest(ctx, deps.publicUrl)) return page(ctx, 403, NOT_VALID.title, 'card.openHere');
      const checked = await check(ctx);
      if (checked.state !== 'open') return closed(ctx, checked);
      const opened = await deps.access.openShare(checked.share);
      if (opened === undefined) return page(ctx, NOT_OPEN.status, NOT_OPEN.title, NOT_OPEN.message);
      await startSession(ctx, opened.session, opened.maxAge);
      deps.log.info({ address: ctx.ip, share: checked.share.id }, 'share link opened');
      ctx.set('Cache-Control', CACHE_POLICY.page);
      ctx.status = 303;
      ctx.redirect(`/albums/${encodePath(checked.share.album)}`);
    },
  };
}
