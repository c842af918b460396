import type { AssetCatalogue } from './assets.js';
import { THEMES, type Display, type Theme } from './display.js';
import { html, type SafeHtml } from './html.js';
import { CATALOGUES, LOCALES } from './i18n.js';

export interface LayoutOptions {
  readonly title: string;
  readonly body: SafeHtml;
  readonly display: Display;
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
  /** What the page's links and loads tell other pages of its URL (default: only this site hears of it). */
  readonly referrerPolicy?: ReferrerPolicy;
}

export type ReferrerPolicy = 'same-origin' | 'no-referrer';

/** A one-time link's page: its URL is a secret, so no request it makes names it, not even to keepsake. */
export const ONE_TIME_PAGE_REFERRER: ReferrerPolicy = 'no-referrer';

/** The browser's own colours for each theme: `theme-color` tints a phone's status bar. */
const THEME_COLOURS = { light: '#f6f5f2', dark: '#0f1012' } as const;

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

function themeMeta(theme: Theme): SafeHtml {
  if (theme !== 'system') return html`<meta name="color-scheme" content="${theme}"><meta name="theme-color" content="${THEME_COLOURS[theme]}">`;
  return html`<meta name="color-scheme" content="light dark">
<meta name="theme-color" media="(prefers-color-scheme: light)" content="${THEME_COLOURS.light}">
<meta name="theme-color" media="(prefers-color-scheme: dark)" content="${THEME_COLOURS.dark}">`;
}

function accountActions(display: Display, placesLink: boolean): SafeHtml {
  const { t } = display;
  return html`<nav class="site-actions" aria-label="${t.t('site.account')}"><a class="device-link" href="/timeline">${t.t('site.timeline')}</a>${placesLink ? html`<a class="device-link" href="/places">${t.t('site.places')}</a>` : ''}<a class="device-link" href="/device">${t.t('site.device')}</a><form class="logout" method="post" action="/logout"><button type="submit">${t.t('site.logout')}</button></form></nav>`;
}

/** Language and theme, remembered per browser; a plain form, so it works without script. */
function preferencesForm(display: Display): SafeHtml {
  const { t } = display;
  const languages = LOCALES.map(
    (locale) => html`<option value="${locale}" lang="${locale}"${locale === t.locale ? ' selected' : ''}>${CATALOGUES[locale]['language.name']}</option>`,
  );
  const themes = THEMES.map((theme) => html`<option value="${theme}"${theme === display.theme ? ' selected' : ''}>${t.t(`site.theme.${theme}`)}</option>`);
  return html`<footer class="site-footer"><form class="preferences" method="post" action="/preferences" aria-label="${t.t('site.preferences')}">
<input type="hidden" name="next" value="${display.path}">
<label>${t.t('site.language')} <select name="lang">${languages}</select></label>
<label>${t.t('site.theme')} <select name="theme">${themes}</select></label>
<button type="submit">${t.t('site.save')}</button>
</form></footer>`;
}

/** The page shell: robots meta, fingerprinted CSS, a logout button on every logged-in page. */
export function layout(assets: AssetCatalogue, options: LayoutOptions): string {
  const { display } = options;
  const bodyClass = [options.bodyClass, options.deterrents === true ? 'deterrents' : undefined].filter(Boolean).join(' ');
  const data = { now: display.now, ...options.data };
  return `<!doctype html>${html`<html lang="${display.t.locale}"${display.theme === 'system' ? '' : html` data-theme="${display.theme}"`}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow, noimageindex">
<meta name="referrer" content="${options.referrerPolicy ?? 'same-origin'}">
${themeMeta(display.theme)}
<title>${options.title} · keepsake</title>
<link rel="icon" href="${assets.url('icon.svg')}" type="image/svg+xml">
<link rel="apple-touch-icon" href="${assets.url('icon-180.png')}">
<link rel="manifest" href="/manifest.webmanifest">
<link rel="stylesheet" href="${assets.url('gallery.css')}">
${(options.stylesheets ?? []).map((name) => html`<link rel="stylesheet" href="${assets.url(name)}">`)}
${(options.scripts ?? []).map((name) => html`<script type="module" src="${assets.url(name)}"></script>`)}
</head>
<body${bodyClass === '' ? '' : html` class="${bodyClass}"`}${dataAttributes(data)}>
<header class="site-header"><a class="brand" href="/"><span class="brand-mark" aria-hidden="true"></span>keepsake</a>${options.loggedIn ? accountActions(display, options.placesLink === true) : ''}</header>
<main id="main">${options.body}</main>
${preferencesForm(display)}
${honeypotLink(options.honeypotHref)}
</body>
</html>`.value}`;
}
