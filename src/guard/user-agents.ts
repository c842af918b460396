import { createHash } from 'node:crypto';
import blockedUserAgents from './blocked-user-agents.json' with { type: 'json' };
import { ALLOW, clip, refuse, type Decision } from './facts.js';

/** Where the default list lives, for messages and the nginx generator's comments. */
export const BLOCKED_USER_AGENTS_FILE = 'src/guard/blocked-user-agents.json';

const DEFAULT_PATTERNS: readonly string[] = Object.freeze(readPatterns(blockedUserAgents));

function readPatterns(data: unknown): string[] {
  const patterns = (data as { patterns?: unknown }).patterns;
  if (!Array.isArray(patterns) || !patterns.every((pattern) => typeof pattern === 'string' && isValidPattern(pattern))) {
    throw new Error(`${BLOCKED_USER_AGENTS_FILE}: expected "patterns" to be a list of regular expressions`);
  }
  return patterns as string[];
}

/**
 * True when `pattern` compiles as a regular expression and cannot match an empty User-Agent
 * (such a pattern would block every client). Patterns are checked once, at load.
 */
export function isValidPattern(pattern: string): boolean {
  try {
    return !new RegExp(pattern, 'i').test('');
  } catch {
    return false; // the caller reports which setting holds the bad pattern
  }
}

/** The default block list (regular expression sources, case-insensitive), for the nginx generator. */
export function blockedUserAgentPatterns(): readonly string[] {
  return DEFAULT_PATTERNS;
}

export interface UserAgentOptions {
  readonly enabled: boolean;
  /** Refuse requests without a User-Agent: browsers always send one. */
  readonly blockEmpty: boolean;
  /** Extra patterns, added to the defaults. */
  readonly block: readonly string[];
  /** Case-insensitive substrings that win over any block pattern. */
  readonly allow: readonly string[];
}

export interface UserAgentMatcher {
  /** The blocking text found in `userAgent`, or undefined when it may pass. */
  match(userAgent: string): string | undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function alternation(sources: readonly string[]): RegExp | undefined {
  return sources.length === 0 ? undefined : new RegExp(sources.map((source) => `(?:${source})`).join('|'), 'i');
}

/**
 * Builds one regular expression for the whole block list (and one for the allow list), once,
 * so a request costs one scan of its User-Agent, not one per pattern.
 */
export function compileUserAgentMatcher(options: Pick<UserAgentOptions, 'block' | 'allow'>): UserAgentMatcher {
  const blocked = alternation([...DEFAULT_PATTERNS, ...options.block]);
  const allowed = alternation(options.allow.map(escapeRegExp));
  return {
    match(userAgent) {
      const hit = blocked?.exec(userAgent);
      if (hit == null || allowed?.test(userAgent) === true) return undefined;
      return hit[0];
    },
  };
}

/**
 * A short digest of the user-agent policy in force (the defaults included), bound into the link
 * cookie: a cookie written under another policy no longer proves its User-Agent was let in.
 */
export function userAgentPolicyTag(options: UserAgentOptions): string {
  const policy = JSON.stringify([options.enabled, options.blockEmpty, DEFAULT_PATTERNS, options.block, options.allow]);
  return createHash('sha256').update(policy).digest('base64url').slice(0, 12);
}

/** Refuses scripting clients and crawlers by what they call themselves; pages and media alike. */
export function checkUserAgent(userAgent: string, options: UserAgentOptions, matcher: UserAgentMatcher): Decision {
  if (!options.enabled) return ALLOW;
  if (userAgent.trim() === '') return options.blockEmpty ? refuse('user-agents', 403, 'no User-Agent') : ALLOW;
  const hit = matcher.match(userAgent);
  return hit === undefined ? ALLOW : refuse('user-agents', 403, `User-Agent matches blocked "${clip(hit, 40)}"`);
}
