import type { IncomingMessage, ServerResponse } from 'node:http';
import type Koa from 'koa';
import type { Access } from '../access/index.js';
import { decide, isHoneypot, type CompiledGuard, type GuardConfig, type MediaBudget, type ProxyTrust } from '../guard/index.js';
import type { Logger } from '../log.js';
import { isMediaPath, mediaTypeOf, parseMediaUrl, servesRanges } from '../media-contract.js';
import type { CookieSigner } from './cookie-keys.js';
import { logRequest } from './errors.js';
import { carryBudgetRefusal, requestFacts } from './guard.js';
import { securityHeadersFlat } from './headers.js';
import { settleForwarding } from './proxy.js';
import { isLoopbackAddress } from './preview-session.js';
import { authorise, derivativeAccelPath, derivativeInMemory, noteReceipt, type MediaDeps } from './routes/media.js';
import { dueForRenewal, SESSION_COOKIE } from './session.js';

/*
 * The fast path: a derivative already in memory (with X-Accel: found verified lately), asked for
 * by a live session, answered without the Koa chain. A grid page asks for dozens of thumbnails at once, and for answers this small
 * the chain itself (koa-session, cookies, the router, Koa's response handling) cost four times
 * what the answer does.
 *
 * It decides nothing of its own. Every check is the very function the Koa chain calls, in the
 * same order: trusted-proxy handling, the guard's policies, the signed session cookie, the live
 * session, the honeypot, the media route's authorise(), the memory cache, the media budget. At
 * the first answer that is not a plain yes (a refusal, a session due for renewal, a cookie
 * signed with an older key, a link cookie to write afresh, a conditional or Range request, a
 * HEAD, anything unusual), the
 * request goes to the Koa chain untouched, which decides it afresh. The one thing not asked
 * twice is the media budget: a refusal taken here is carried over, not taken again.
 */

export interface FastMediaDeps {
  readonly koa: Koa;
  readonly trust: ProxyTrust;
  readonly guard: GuardConfig;
  readonly compiledGuard: CompiledGuard;
  readonly publicUrl: string | undefined;
  readonly signer: CookieSigner;
  readonly access: Pick<Access, 'liveSession'>;
  readonly guardSecret: string;
  readonly media: MediaDeps;
  readonly mediaBudget: MediaBudget;
  readonly log: Logger;
}

/** Headers that make an answer depend on more than the URL: the Koa chain handles these. */
const CONDITIONAL_HEADERS = ['if-none-match', 'if-modified-since', 'if-match', 'if-range', 'range'] as const;

/** The session cookie's value as the cookies package reads it (Koa's, which koa-session uses): same pattern, same quoting. */
const SESSION_COOKIE_PATTERN = new RegExp(`(?:^|;) *${SESSION_COOKIE.replace(/[.]/g, '\\.')}=([^;]*)`);
const SIGNATURE_COOKIE_PATTERN = new RegExp(`(?:^|;) *${SESSION_COOKIE.replace(/[.]/g, '\\.')}\\.sig=([^;]*)`);

function cookieValue(header: string, pattern: RegExp): string | undefined {
  const match = pattern.exec(header);
  if (match === null) return undefined;
  const value = match[1]!;
  return value.startsWith('"') ? value.slice(1, -1) : value;
}

/** The session id of a cookie signed with the current key; undefined for anything else (Koa then decides). */
function signedSessionId(request: IncomingMessage, signer: CookieSigner): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  const sid = cookieValue(header, SESSION_COOKIE_PATTERN);
  const signature = cookieValue(header, SIGNATURE_COOKIE_PATTERN);
  if (sid === undefined || sid === '' || signature === undefined || signature === '') return undefined;
  return signer.index(`${SESSION_COOKIE}=${sid}`, signature) === 0 ? sid : undefined;
}

/**
 * A request handler for node:http: answers what it can from memory, hands everything else to
 * `fallback` (the Koa application's callback).
 */
export function fastMedia(deps: FastMediaDeps, fallback: (request: IncomingMessage, response: ServerResponse) => void) {
  async function answer(request: IncomingMessage, response: ServerResponse, started: number): Promise<boolean> {
    if (request.method !== 'GET' || request.url?.startsWith('/') !== true) return false;
    if (CONDITIONAL_HEADERS.some((name) => request.headers[name] !== undefined)) return false;
    const address = settleForwarding(request, deps.trust);
    // Koa's own request getters (path, protocol, host), as the chain would see them.
    const ctx = deps.koa.createContext(request, response);
    const path = ctx.path;
    if (!isMediaPath(path)) return false;
    const edge = { address, protocol: ctx.protocol, host: ctx.host };
    if (!decide(requestFacts(request, path, edge, deps.publicUrl), deps.guard, deps.compiledGuard).allow) return false;
    const sid = signedSessionId(request, deps.signer);
    if (sid === undefined) return false;
    const session = await deps.access.liveSession(sid);
    if (session === undefined || dueForRenewal(session.expiresAt, session.maxAge, Date.now())) return false;
    // The admin's preview answers only on this machine; the chain ends it otherwise (preview-session.ts).
    if (session.preview && !isLoopbackAddress(address)) return false;
    const url = parseMediaUrl(path);
    if (url === undefined) return false;
    if (deps.guard.honeypot.enabled && isHoneypot(path, session.token, deps.guardSecret)) return false;
    const verdict = authorise(url, session, 'GET', deps.media);
    if ('refused' in verdict || !deps.media.linkCookies.proves(request, session.token)) return false;
    const file = derivativeInMemory(verdict, deps.media);
    const accelPath = file === undefined ? derivativeAccelPath(verdict, deps.media) : undefined;
    if (file === undefined && accelPath === undefined) return false;
    const budget = await deps.mediaBudget.take(session.sid, address);
    if (!budget.allow) {
      carryBudgetRefusal(request, budget);
      return false;
    }
    if (response.headersSent || response.destroyed) return true;
    noteReceipt(deps.media, session, verdict, address);
    // One flat list handed to writeHead: node then skips the per-header bookkeeping of setHeader.
    const headers: string[] = [...securityHeadersFlat(ctx.secure), 'Cache-Control', verdict.rule.cacheControl];
    if (file === undefined) {
      // As send-file.ts's X-Accel answer: nginx sends the bytes, with its own ETag and Range handling.
      response.writeHead(200, [...headers, 'X-Accel-Redirect', accelPath!, 'Content-Type', mediaTypeOf(path), 'Content-Length', '0']);
      response.end();
      logRequest(deps.log, { method: 'GET', path, status: 200, started });
      return true;
    }
    if (servesRanges(verdict.rule, path)) headers.push('Accept-Ranges', 'bytes');
    headers.push('ETag', file.etag, 'Last-Modified', file.lastModified.toUTCString(), 'Content-Type', file.type, 'Content-Length', String(file.bytes.length));
    response.writeHead(200, headers);
    response.end(file.bytes);
    logRequest(deps.log, { method: 'GET', path, status: 200, started });
    return true;
  }

  return function handle(request: IncomingMessage, response: ServerResponse): void {
    const started = performance.now();
    answer(request, response, started).then(
      (answered) => {
        if (!answered) fallback(request, response);
      },
      (error: unknown) => {
        // Nothing is written before every check has passed: the chain answers (and logs) afresh.
        deps.log.debug({ err: error }, 'fast path declined');
        if (!response.headersSent) fallback(request, response);
        else response.destroy();
      },
    );
  };
}
