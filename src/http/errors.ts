import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Context, Next } from 'koa';
import { isKeepsakeError } from '../errors.js';
import type { Logger } from '../log.js';
import { loggablePath, REFUSAL_BODIES, TEXT_TYPE, UNAVAILABLE_RETRY_AFTER_S } from '../media-contract.js';
import { securityHeaderList } from './headers.js';
import { respondNotFound } from './not-found.js';

/** Error codes from feature folders and what a client sees for each. One switch, one place. */
function statusFor(error: unknown): number {
  const code = (error as { code?: unknown }).code;
  // SQLite busy past its wait (another process holds the write lock) or its disk full: try again soon.
  if (typeof code === 'string' && /^SQLITE_(?:BUSY|LOCKED|FULL)(?:_|$)/.test(code)) return 503;
  switch (code) {
    case 'PATH_REJECTED':
    case 'UNREADABLE_SOURCE':
    case 'SOURCE_MISSING':
    case 'UNKNOWN_VARIANT':
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ENAMETOOLONG':
    case 'EISDIR':
      return 404;
    case 'NO_SPACE':
    case 'ENOSPC':
    // A token link could not be made or removed (a read-only or full web root): nothing changed, try again.
    case 'WEB_ROOT_UNWRITABLE':
    case 'TIMEOUT':
    case 'CLOSED':
    case 'EMFILE':
    case 'ENFILE':
    // The shared database (several nodes) not answering: refused, reset, shutting down, connection lost.
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case '57P01':
    case '57P03':
    case '08001':
    case '08006':
      return 503;
  }
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

/** The JSON API's own paths: what they refuse, they refuse in JSON, as `/api/me` says 401. */
const API_PREFIX = '/api/';

/** A refusal's words, as the API's `{ "error": … }`; the status and its headers (Allow, Retry-After) stay. */
function answerApiRefusalAsJson(ctx: Context): void {
  if (!ctx.path.startsWith(API_PREFIX) || ctx.status < 400 || !(ctx.body == null || typeof ctx.body === 'string')) return;
  const words = typeof ctx.body === 'string' && ctx.body.trim() !== '' ? ctx.body.trim() : (STATUS_CODES[ctx.status] ?? 'Refused');
  ctx.body = { error: words };
}

/** The one log line of a request, whichever path answered it (the Koa chain, or fast-media.ts). */
export function logRequest(log: Logger, request: { method: string; path: string; status: number; started: number; decision?: unknown; refused?: unknown }): void {
  log.info(
    {
      method: request.method,
      path: loggablePath(request.path),
      status: request.status,
      ms: Math.round((performance.now() - request.started) * 10) / 10,
      ...(request.decision === undefined ? {} : { decision: request.decision }),
      ...(request.refused === undefined ? {} : { refused: request.refused }),
    },
    'request',
  );
}

/**
 * Outermost middleware: maps thrown errors to statuses (404s all alike; 5xx never show
 * internals) and writes one log line per request with its outcome.
 */
export function handleErrors(log: Logger) {
  return async function errorsAndRequestLog(ctx: Context, next: Next): Promise<void> {
    const started = performance.now();
    try {
      await next();
      if (ctx.status === 404 && ctx.body == null && ctx.respond !== false) respondNotFound(ctx);
    } catch (error) {
      const status = statusFor(error);
      ctx.respond = true;
      if (status === 404) respondNotFound(ctx);
      else {
        ctx.status = status;
        ctx.type = TEXT_TYPE;
        // keepsake's own 4xx messages are written for the client; a library's (a body parser's
        // "Expected property name … at position 1") become the status's name; 5xx internals never leave the server.
        const expose = status < 500 && isKeepsakeError(error) && error.expose;
        const plain = status < 500 ? (STATUS_CODES[status] ?? 'Bad request') : 'Something went wrong';
        ctx.body = status === 503 ? REFUSAL_BODIES[503] : `${expose ? (error as Error).message : plain}\n`;
        if (status === 503) ctx.set('Retry-After', String((error as { retryAfter?: number }).retryAfter ?? UNAVAILABLE_RETRY_AFTER_S));
      }
      if (status >= 500) log.error({ err: error, path: loggablePath(ctx.path) }, 'request failed');
    } finally {
      answerApiRefusalAsJson(ctx);
      logRequest(log, { method: ctx.method, path: ctx.path, status: ctx.status, started, decision: ctx.state['decision'], refused: ctx.state['mediaRefused'] });
    }
  };
}

/** What node's parser refused, as node would answer it: a header block too large, one too slow, or no HTTP at all. */
function clientErrorStatus(code: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

/**
 * node's `clientError`: a request it could not parse, answered before keepsake sees it. node's own
 * answer carries no header at all; this one carries those every answer carries (X-Robots-Tag,
 * nosniff …), a plain body, and closes the connection.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = clientErrorStatus(error.code);
  const reason = STATUS_CODES[status] ?? 'Bad Request';
  const body = `${reason}\n`;
  const headers = [...securityHeaderList(false), ['Content-Type', TEXT_TYPE], ['Content-Length', String(Buffer.byteLength(body))], ['Connection', 'close']];
  socket.end(`HTTP/1.1 ${status} ${reason}\r\n${headers.map(([name, value]) => `${name}: ${value}`).join('\r\n')}\r\n\r\n${body}`);
}
