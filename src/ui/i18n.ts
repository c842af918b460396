import { de } from './locales/de.js';
import { en } from './locales/en.js';
import { es } from './locales/es.js';
import { fr } from './locales/fr.js';
import { it } from './locales/it.js';
import { nl } from './locales/nl.js';

/*
 * The languages keepsake speaks, and the one way a page turns a message key into words.
 * Catalogues live in ./locales, one file per language; English is the reference.
 */

export type MessageKey = keyof typeof en;
export type PluralForms = { readonly one: string; readonly other: string } & Partial<Record<Intl.LDMLPluralRule, string>>;
export type Message = string | PluralForms;
/** A language's catalogue: every key English has, and no other. */
export type Catalogue = { readonly [K in MessageKey]: (typeof en)[K] extends string ? string : PluralForms };

export const CATALOGUES = { en, de, fr, es, it, nl } as const satisfies Record<string, Catalogue>;
export type Locale = keyof typeof CATALOGUES;
export const LOCALES = Object.keys(CATALOGUES) as Locale[];
export const DEFAULT_LOCALE: Locale = 'en';

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && Object.hasOwn(CATALOGUES, value);
}

export type Values = Readonly<Record<string, string | number>>;

export interface Translator {
  readonly locale: Locale;
  /** The message for `key`, with `{name}` filled from `values`; a plural message takes `values.count`. */
  t(key: MessageKey, values?: Values): string;
  /** A number as this language writes it. */
  number(value: number, options?: Intl.NumberFormatOptions): string;
  /** The messages a browser script needs, by key (handed over in a data attribute). */
  pick(keys: readonly MessageKey[]): Record<string, string>;
}

function fill(template: string, values: Values | undefined, numbers: Intl.NumberFormat): string {
  if (values === undefined) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) return whole;
    return typeof value === 'number' ? numbers.format(value) : value;
  });
}

const translators = new Map<Locale, Translator>();

/** One translator per language, made once: Intl objects are costly to build per request. */
export function translatorFor(locale: Locale): Translator {
  const known = translators.get(locale);
  if (known !== undefined) return known;
  const catalogue: Catalogue = CATALOGUES[locale];
  const plurals = new Intl.PluralRules(locale);
  const numbers = new Intl.NumberFormat(locale);
  const t = (key: MessageKey, values?: Values): string => {
    const message: Message = catalogue[key];
    if (typeof message === 'string') return fill(message, values, numbers);
    const count = Number(values?.['count'] ?? 0);
    return fill(message[plurals.select(count)] ?? message.other, values, numbers);
  };
  const translator: Translator = {
    locale,
    t,
    number: (value, options) => (options === undefined ? numbers : new Intl.NumberFormat(locale, options)).format(value),
    pick: (keys) => Object.fromEntries(keys.map((key) => [key, t(key)])),
  };
  translators.set(locale, translator);
  return translator;
}
