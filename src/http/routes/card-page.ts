import type { Context } from 'koa';
import { CACHE_POLICY } from '../../media-contract.js';
import type { Ui } from '../../ui/index.js';

/** What a one-time link's page says: a share link's, a device's card, the admin's preview. */
export interface CardPage {
  readonly status: number;
  readonly title: string;
  readonly message: string;
  /** Where its button posts; none when the link cannot be used. */
  readonly action?: string | undefined;
  readonly button?: string | undefined;
}

/**
 * Answers with the page a one-time link lands on: never cached, and never sending its URL (a
 * secret) on in a Referer. Using the link takes the button's POST, so a link preview uses nothing.
 */
export function answerCardPage(ctx: Context, ui: Ui, page: CardPage): void {
  ctx.status = page.status;
  ctx.set('Cache-Control', CACHE_POLICY.page);
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.type = 'html';
  ctx.body = ui.renderSharePage({ title: page.title, message: page.message, action: page.action, button: page.button });
}
