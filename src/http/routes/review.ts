import type { Context } from 'koa';
import type { Access } from '../../access/index.js';
import type { Logger } from '../../log.js';
import { CACHE_POLICY } from '../../media-contract.js';
import type { Ui } from '../../ui/index.js';
import { isLoopbackAddress } from '../preview-session.js';
import { isSameOriginRequest } from '../same-origin.js';
import { answerCardPage, type Words } from './card-page.js';
import { startSession } from '../session.js';

export const REVIEW_PATH_PREFIX = '/review/';

/**
 * `/review/<code>`: the admin's one-time preview link (keepsake review --serve), good on this
 * machine only. GET shows a button; POST, from loopback and this site, opens an hour's session
 * that sees every album, those waiting for review too.
 */
export function reviewRoutes(deps: { readonly publicUrl: string | undefined; readonly log: Logger; readonly ui: Ui; readonly access: Access }) {
  const page = (ctx: Context, status: number, title: Words, message: Words, action?: string): void =>
    answerCardPage(ctx, deps.ui, { status, title, message, action, button: 'review.button' });
  const onThisMachine = (ctx: Context): boolean => isLoopbackAddress(ctx.ip);

  return {
    show(ctx: Context): void {
      if (!onThisMachine(ctx)) return page(ctx, 403, 'review.notHereTitle', 'review.notHereText');
      page(ctx, 200, 'review.title', 'review.text', ctx.path);
    },
    async open(ctx: Context): Promise<void> {
      if (!onThisMachine(ctx) || !isSameOriginRequest(ctx, deps.publicUrl)) return page(ctx, 403, 'review.notHereTitle', 'review.notHereText');
      const opened = await deps.access.openPreview(ctx.path.slice(REVIEW_PATH_PREFIX.length));
      if (opened === undefined) return page(ctx, 410, 'review.closedTitle', 'review.closedText');
      await startSession(ctx, opened.session, opened.maxAge);
      deps.log.info({ address: ctx.ip }, 'review preview opened');
      ctx.set('Cache-Control', CACHE_POLICY.page);
      ctx.status = 303;
      ctx.redirect('/');
    },
  };
}
