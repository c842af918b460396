/**
 * The vocabulary every guard policy speaks: the facts the http layer gathers from a request,
 * and the decision a policy returns. Policies never see Koa, cookies or the session itself.
 */

/** Gathered by the http layer from the request, after trusted-proxy handling. */
export interface RequestFacts {
  readonly method: string;
  /** The raw path, without the query string. */
  readonly path: string;
  /** A `/<token>/<variant>/…` URL. */
  readonly isMedia: boolean;
  /** From the file extension, when `isMedia`. */
  readonly mediaType?: 'image' | 'video' | undefined;
  /** `''` when absent. */
  readonly userAgent: string;
  /** `''` when absent. */
  readonly referer: string;
  /** `''` when absent. */
  readonly origin: string;
  /** `''` when absent; browsers send `same-origin`, `same-site`, `cross-site` or `none`. */
  readonly secFetchSite: string;
  /** A `Range` or `Request-Range` header is present. */
  readonly hasRange: boolean;
  /** The client address after trusted-proxy handling. */
  readonly address: string;
  /** Our own origin, e.g. `http://127.0.0.1:8080` or the configured public URL. */
  readonly ownOrigin: string;
  /** The Host the request names (after trusted-proxy handling); `''` when absent. */
  readonly host: string;
  /** The configured public URL's origin, when there is one. */
  readonly publicOrigin: string | undefined;
}

export const POLICY_NAMES = [
  'host',
  'addresses',
  'user-agents',
  'probing',
  'hotlink',
  'rates',
  'tripwire',
  'login',
  'honeypot',
] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export interface Refusal {
  readonly allow: false;
  readonly policy: PolicyName;
  /** Short, safe to log: never a cookie, a password or a full token. */
  readonly reason: string;
  readonly status: 403 | 404 | 429 | 503;
  /** Whole seconds, at least 1; present on every 429 and 503. */
  readonly retryAfterSeconds?: number;
}

export interface Allowed {
  readonly allow: true;
}

export type Decision = Allowed | Refusal;

export const ALLOW: Allowed = Object.freeze({ allow: true });

/** `hasRange` for RequestFacts: `Request-Range` is an old alias of `Range` that some servers still honour. */
export function hasRangeHeader(headers: Readonly<Record<string, string | readonly string[] | undefined>>): boolean {
  return headers['range'] !== undefined || headers['request-range'] !== undefined;
}

/** Paths that stay reachable for monitors and polite crawlers whatever else is refused. */
export const HEALTH_PATH = '/healthz';
export const ROBOTS_PATH = '/robots.txt';

export function refuse(policy: PolicyName, status: 403 | 404, reason: string): Refusal {
  return { allow: false, policy, reason, status };
}

/** A 429: Retry-After is rounded up to whole seconds and never 0, so a client never retries at once. */
export function refuseForNow(policy: PolicyName, reason: string, retryAfterMs: number): Refusal {
  return { allow: false, policy, reason, status: 429, retryAfterSeconds: retryAfterSeconds(retryAfterMs) };
}

export function retryAfterSeconds(milliseconds: number): number {
  return Number.isFinite(milliseconds) ? Math.max(1, Math.ceil(milliseconds / 1000)) : 1;
}

/** What one JSON log line says about a decision: `{ policy, reason }`, plus the status of a refusal. */
export interface Explanation {
  readonly policy: PolicyName | null;
  readonly reason: string;
  readonly status?: number;
  readonly retryAfterSeconds?: number;
}

export function explain(decision: Decision): Explanation {
  if (decision.allow) return { policy: null, reason: 'allowed' };
  const { policy, reason, status, retryAfterSeconds: retryAfter } = decision;
  return retryAfter === undefined ? { policy, reason, status } : { policy, reason, status, retryAfterSeconds: retryAfter };
}

/** Shortens text that came from a client before it goes into a reason (and so into the log). */
export function clip(text: string, length = 80): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length <= length ? printable : `${printable.slice(0, length - 1)}…`;
}
