import type { Context } from 'koa';
import {
  DEFAULT_LOCALE,
  isLocale,
  isSortOrder,
  isTheme,
  LOCALES,
  translatorFor,
  type Display,
  type Locale,
} from '../ui/index.js';
import { CACHE_POLICY } from '../media-contract.js';
import { isSameOriginRequest, safeNextPath } from './same-origin.js';

/*
 * How this browser wants pages shown. Each choice is a plain cookie (no secret in it, checked
 * against its list when read), so it is remembered per browser and needs no account. The
 * language is the chosen one, else the best match for Accept-Language, else English.
 */

export const PREFERENCE_COOKIES = { lang: 'keepsake.lang', theme: 'keepsake.theme', sort: 'keepsake.sort' } as const;
/** About a year: what browsers allow a cookie at most (400 days) is more than a preference needs. */
const PREFERENCE_MAX_AGE_MS = 365 * 24 * 3600 * 1000;

export function localeOf(ctx: Context): Locale {
  const chosen = ctx.cookies.get(PREFERENCE_COOKIES.lang);
  if (isLocale(chosen)) return chosen;
  const accepted = ctx.acceptsLanguages(LOCALES);
  return isLocale(accepted) ? accepted : DEFAULT_LOCALE;
}

export function displayOf(ctx: Context): Display {
  const theme = ctx.cookies.get(PREFERENCE_COOKIES.theme);
  const sort = ctx.cookies.get(PREFERENCE_COOKIES.sort);
  return {
    t: translatorFor(localeOf(ctx)),
    theme: isTheme(theme) ? theme : 'system',
    sort: isSortOrder(sort) ? sort : 'oldest',
    path: safeNextPath(ctx.originalUrl),
    now: new Date().toISOString(),
  };
}

type Field = keyof typeof PREFERENCE_COOKIES;
const VALID: Readonly<Record<Field, (value: unknown) => boolean>> = { lang: isLocale, theme: isTheme, sort: isSortOrder };

/** POST /preferences: remembers what the form chose (only known values) and goes back to the page. */
export function preferencesRoute(publicUrl: string | undefined) {
  return function savePreferences(ctx: Context): void {
    ctx.set('Cache-Control', CACHE_POLICY.page);
    if (!isSameOriginRequest(ctx, publicUrl)) {
      ctx.status = 403;
      ctx.type = 'text/plain';
      ctx.body = `${translatorFor(localeOf(ctx)).t('login.crossSite')}\n`;
      return;
    }
    const form = (ctx.request.body ?? {}) as Partial<Record<Field | 'next', unknown>>;
    for (const field of Object.keys(PREFERENCE_COOKIES) as Field[]) {
      const value = form[field];
      if (!VALID[field](value)) continue;
      ctx.cookies.set(PREFERENCE_COOKIES[field], String(value), { httpOnly: true, sameSite: 'lax', maxAge: PREFERENCE_MAX_AGE_MS, secure: ctx.secure, overwrite: true });
    }
    ctx.status = 303;
    ctx.redirect(safeNextPath(form.next));
  };
}
