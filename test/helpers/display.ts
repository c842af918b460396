import { translatorFor, type Display, type Locale } from '../../src/ui/index.js';

/** What the http layer hands every page: English, the device's theme, oldest first. */
export function displayFor(locale: Locale = 'en', overrides: Partial<Display> = {}): Display {
  return { t: translatorFor(locale), theme: 'system', sort: 'oldest', path: '/', now: '2026-01-01T00:00:00.000Z', ...overrides };
}
