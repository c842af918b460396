import type { AssetCatalogue } from './assets.js';
import type { Display } from './display.js';
import { html } from './html.js';
import { layout, ONE_TIME_PAGE_REFERRER } from './layout.js';

export interface SharePageOptions {
  readonly display: Display;
  readonly title: string;
  readonly message: string;
  /** Where the "open" button posts; absent when the link cannot be opened. */
  readonly action?: string | undefined;
  /** The button's words (default: Open the album). */
  readonly button?: string | undefined;
}

/**
 * The page a share link lands on. Opening takes a button press (a POST), so link-preview
 * bots that fetch every URL pasted into a chat do not use up a single-use link.
 */
export function sharePage(assets: AssetCatalogue, options: SharePageOptions): string {
  const body = html`<section class="login" aria-labelledby="share-title">
<h1 id="share-title">${options.title}</h1>
<p class="login-lead"${options.action === undefined ? html` role="alert"` : ''}>${options.message}</p>
${options.action === undefined ? '' : html`<form method="post" action="${options.action}"><button type="submit">${options.button ?? options.display.t.t('card.open')}</button></form>`}
</section>`;
  return layout(assets, { title: options.title, body, display: options.display, loggedIn: false, bodyClass: 'login-page', referrerPolicy: ONE_TIME_PAGE_REFERRER });
}
