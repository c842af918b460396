import { z } from 'zod';
import type { ConfigSection } from '../config.js';
import { isAddressOrRange } from './addresses.js';
import { isValidPattern } from './user-agents.js';

/**
 * The `guard` object of keepsake.config.json. Every policy is on by default and every field has
 * a default, so `{}` (or no `guard` at all) is the safe configuration. Every message names the
 * setting (`guard.hotlink.allowTypedUrl: expected true or false, received "yes"`), and unknown
 * keys are errors: a misspelt security setting must not silently fall back to its default.
 */

function describe(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (typeof input === 'string') return JSON.stringify(input.length > 60 ? `${input.slice(0, 59)}…` : input);
  if (Array.isArray(input)) return 'a list';
  if (input === null || typeof input !== 'object') return String(input);
  return 'an object';
}

function settingName(path: readonly PropertyKey[] | undefined): string {
  return (path ?? []).reduce<string>((name, key) => (typeof key === 'number' ? `${name}[${key}]` : `${name}.${String(key)}`), 'guard');
}

/** The zod `error` option for a leaf: names the setting, what was expected and what came. */
function expecting(expected: string) {
  return {
    error: (issue: { readonly path?: PropertyKey[] | undefined; readonly input?: unknown }) =>
      `${settingName(issue.path)}: expected ${expected}, received ${describe(issue.input)}`,
  };
}

function flag(fallback: boolean) {
  return z.boolean(expecting('true or false')).default(fallback);
}

function integer(fallback: number, min: number, max: number, unit = '') {
  const says = expecting(`an integer from ${min} to ${max}${unit}`);
  return z.number(says).int(says).min(min, says).max(max, says).default(fallback);
}

function textList(expected: string, isValid: (text: string) => boolean) {
  const says = expecting(expected);
  return z.array(z.string(says).refine(isValid, says), expecting('a list')).default([]);
}

/** An object section: unknown keys are listed by name, and a missing section gets its defaults. */
function section<Shape extends z.ZodRawShape>(shape: Shape) {
  const known = Object.keys(shape).join(', ');
  const object = z.strictObject(shape, {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? `${settingName(issue.path)}: unknown setting ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}; known settings: ${known}`
          : `${settingName(issue.path)}: expected an object, received ${describe(issue.input)}`,
  });
  // Every field of a section has a default, so `{}` is a valid input; TS cannot see that through the generic.
  return object.prefault({} as z.input<typeof object>);
}

const DAY_SECONDS = 86_400;

const budget = (burst: number, perSecond: number) =>
  section({
    /** Requests a visitor may make at once before the steady rate applies. */
    burst: integer(burst, 1, 1_000_000),
    /** The steady rate the burst refills at; the burst is whole again after burst / perSecond seconds. */
    perSecond: integer(perSecond, 1, 10_000, ' per second'),
  });

export const guardConfigSchema = section({
  hotlink: section({
    enabled: flag(true),
    allowTypedUrl: flag(true),
    allowEmptyReferer: flag(false),
  }),
  probing: section({ enabled: flag(true) }),
  userAgents: section({
    enabled: flag(true),
    blockEmpty: flag(true),
    block: textList('a regular expression that does not match an empty User-Agent', isValidPattern),
    allow: textList('a non-empty piece of User-Agent text', (text) => text.trim() !== ''),
  }),
  addresses: section({
    block: textList('an IPv4 or IPv6 address or CIDR range, such as 203.0.113.7 or 2001:db8::/32', isAddressOrRange),
  }),
  rates: section({
    enabled: flag(true),
    // Defaults and their reasons are in media-budget.ts.
    perSession: budget(2000, 20),
    perAddress: budget(8000, 80),
    // A derivative not made yet costs a decode: see miss-limiter.ts.
    misses: section({
      perSession: integer(24, 1, 1000),
      perAddress: integer(64, 1, 10_000),
      cost: integer(2, 1, 1000),
    }),
    tripwire: section({
      enabled: flag(true),
      strikes: integer(3, 1, 1000),
      windowSeconds: integer(600, 1, DAY_SECONDS, ' seconds'),
    }),
  }),
  login: section({
    enabled: flag(true),
    freeFailures: integer(5, 0, 1000),
    firstDelaySeconds: integer(1, 1, DAY_SECONDS, ' seconds'),
    maxDelaySeconds: integer(900, 1, DAY_SECONDS, ' seconds'),
    forgetAfterSeconds: integer(DAY_SECONDS, 60, 24 * DAY_SECONDS, ' seconds'),
    global: section({
      failures: integer(100, 1, 1_000_000),
      windowSeconds: integer(600, 1, DAY_SECONDS, ' seconds'),
      delaySeconds: integer(10, 1, 3600, ' seconds'),
    }),
  }),
  honeypot: section({ enabled: flag(true) }),
});

/** The resolved guard settings: every field present. */
export type GuardConfig = z.output<typeof guardConfigSchema>;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

export const DEFAULT_GUARD_CONFIG: GuardConfig = deepFreeze(guardConfigSchema.parse({}));

export type GuardConfigResult = { readonly ok: true; readonly config: GuardConfig } | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Checks a `guard` object and fills in the defaults; every problem is listed, one line each,
 * so the config loader can report them all at once. `undefined` gives the defaults.
 */
export function resolveGuardConfig(input: unknown): GuardConfigResult {
  const result = guardConfigSchema.safeParse(input);
  if (result.success) return { ok: true, config: deepFreeze(result.data) };
  return { ok: false, problems: result.error.issues.map((issue) => issue.message) };
}

/** The `guard` object of the config file, checked with every other setting at start-up. */
export const guardConfigSection: ConfigSection<GuardConfig> = {
  parse(raw) {
    const result = resolveGuardConfig(raw ?? {});
    return result.ok ? { ok: true, value: result.config } : { ok: false, problems: result.problems };
  },
};
