import type { IncomingMessage } from 'node:http';
import type { Context, Next } from 'koa';
import { clientAddressOf, isTrustedPeer, type ProxyTrust } from '../guard/index.js';

const FORWARDED_HEADERS = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded'] as const;

/**
 * Who the client is, once per request: the address the last trusted proxy saw (never what the
 * client wrote at the left of X-Forwarded-For). X-Forwarded-Proto and -Host from a peer that is
 * not a trusted proxy are dropped, so a visitor can claim neither TLS nor another host. Returns
 * the client's address. Both the Koa chain and the fast path (fast-media.ts) call this first.
 */
export function settleForwarding(request: IncomingMessage, trust: ProxyTrust): string {
  if (!isTrustedPeer(request, trust)) {
    for (const header of FORWARDED_HEADERS) delete request.headers[header];
  }
  return clientAddressOf(request, trust);
}

export function clientAddress(trust: ProxyTrust) {
  return async function forwardedHeaders(ctx: Context, next: Next): Promise<void> {
    ctx.request.ip = settleForwarding(ctx.req, trust);
    await next();
  };
}
