import type { Context } from 'koa';
import { CACHE_POLICY } from '../../media-contract.js';
import { ONE_TIME_PAGE_REFERRER, type MessageKey, type Ui } from '../../ui/index.js';
import { displayOf } from '../display.js';

/** A message of the catalogue and the values it names: translated when the page is made. */
export type Words = MessageKey | readonly [MessageKey, Readonly<Record<string, string | number>>];

/** What a one-time link's page says: a share link's, a device's card, the admin's preview. */
export interface CardPage {
  readonly status: number;
  readonly title: Words;
  readonly message: Words;
  /** Where its button posts; none when the link cannot be used. */
  readonly action?: string | undefined;
  readonly button?: Words | undefined;
}

/**
 * Answers with the page a one-time link lands on: never cached, and never sending its URL (a
 * secret) on in a Referer. Using the link takes the button's POST, so a link preview uses nothing.
 */
export function answerCardPage(ctx: Context, ui: Ui, page: CardPage): void {
  const display = displayOf(ctx);
  const say = (words: Words) => (typeof words === 'string' ? display.t.t(words) : display.t.t(words[0], words[1]));
  ctx.status = page.status;
  ctx.set('Cache-Control', CACHE_POLICY.page);
  ctx.set('Referrer-Policy', ONE_TIME_PAGE_REFERRER);
  ctx.type = 'html';
  ctx.body = ui.renderSharePage({
    display,
    title: say(page.title),
    message: say(page.message),
    action: page.action,
    button: page.button === undefined ? undefined : say(page.button),
  });
}
