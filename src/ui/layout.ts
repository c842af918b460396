import type { AssetCatalogue } from './assets.js';
import { html, type SafeHtml } from './html.js';

export interface LayoutOptions {
  readonly title: string;
  readonly body: SafeHtml;
  readonly loggedIn: boolean;
  readonly bodyClass?: string;
  /** Asset names of ES modules to load (never inline: the CSP allows only 'self' scripts). */
  readonly scripts?: readonly string[];
  /** Asset names of extra style sheets after gallery.css. */
  readonly stylesheets?: readonly string[];
  /** `data-*` attributes on <body>: how scripts learn fingerprinted URLs without an inline import map. */
  readonly data?: Readonly<Record<string, string>>;
  /** Right-click and drag saving made harder (CSS always; script where `scripts` load). */
  readonly deterrents?: boolean;
  /** The key may be told places: the header links the Places page. */
  readonly placesLink?: boolean;
  /** A link only a scraper follows; see honeypotLink. */
  readonly honeypotHref?: string | undefined;
}

/**
 * A trap for scrapers that follow every link: hidden from people by a class (no inline
 * style under the CSP), from assistive technology by aria-hidden, from the Tab order by
 * tabindex, and from polite crawlers by rel=nofollow. It is never an image, so no browser
 * fetches it, and no script lists it.
 */
function honeypotLink(href: string | undefined): SafeHtml | string {
  if (href === undefined || href === '') return '';
  return html`<a href="${href}" class="trap" aria-hidden="true" tabindex="-1" rel="nofollow">Full-size archive</a>`;
}

function dataAttributes(data: Readonly<Record<string, string>>): SafeHtml[] {
  return Object.entries(data)
    .filter(([name]) => /^[a-z][a-z0-9-]*$/.test(name))
    .map(([name, value]) => html` data-${name}="${value}"`);
}

/** The page shell: robots meta, fingerprinted CSS, a logout button on every logged-in page. */
export function layout(assets: AssetCatalogue, options: LayoutOptions): string {
  const logout = options.loggedIn
    ? html`<nav class="site-actions" aria-label="Account">${options.placesLink === true ? html`<a class="device-link" href="/places">Places</a>` : ''}<a class="device-link" href="/device">This device</a><form class="logout" method="post" action="/logout"><button type="submit">Log out</button></form></nav>`
    : '';
  const bodyClass = [options.bodyClass, options.deterrents === true ? 'deterrents' : undefined].filter(Boolean).join(' ');
  return `<!doctype html>${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow, noimageindex">
<meta name="referrer" content="same-origin">
<meta name="color-scheme" content="dark">
<meta name="theme-color" content="#0f1012">
<title>${options.title} · keepsake</title>
<link rel="icon" href="${assets.url('icon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${assets.url('gallery.css')}">
${(options.stylesheets ?? []).map((name) => html`<link rel="stylesheet" href="${assets.url(name)}">`)}
${(options.scripts ?? []).map((name) => html`<script type="module" src="${assets.url(name)}"></script>`)}
</head>
<body${bodyClass === '' ? '' : html` class="${bodyClass}"`}${dataAttributes(options.data ?? {})}>
<header class="site-header"><a class="brand" href="/"><span class="brand-mark" aria-hidden="true"></span>keepsake</a>${logout}</header>
<main id="main">${options.body}</main>
${honeypotLink(options.honeypotHref)}
</body>
</html>`.value}`;
}
