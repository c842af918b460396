import type { Context, Next } from 'koa';
import { clientAddressOf, isTrustedPeer, type ProxyTrust } from '../guard/index.js';

const FORWARDED_HEADERS = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded'] as const;

/**
 * Who the client is, once per request: the address the last trusted proxy saw (never what the
 * client wrote at the left of X-Forwarded-For). X-Forwarded-Proto and -Host from a peer that is
 * not a trusted proxy are dropped, so a visitor can claim neither TLS nor another host.
 */
export function clientAddress(trust: ProxyTrust) {
  return async function forwardedHeaders(ctx: Context, next: Next): Promise<void> {
    if (!isTrustedPeer(ctx.req, trust)) {
      for (const header of FORWARDED_HEADERS) delete ctx.req.headers[header];
    }
    ctx.request.ip = clientAddressOf(ctx.req, trust);
    await next();
  };
}
