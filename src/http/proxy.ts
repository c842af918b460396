import type { Context, Next } from 'koa';
import type { TrustProxy } from '../config.js';
import { isAddressInList, parseAddressList } from '../guard/index.js';

const FORWARDED_HEADERS = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded'] as const;

/**
 * Koa trusts X-Forwarded-* whenever `app.proxy` is on; this drops those headers unless the
 * peer is a configured proxy, so a visitor cannot claim another address or TLS.
 */
export function forgetUntrustedForwarding(trust: TrustProxy) {
  const list = trust.mode === 'list' ? parseAddressList(trust.addresses) : [];
  return async function forwardedHeaders(ctx: Context, next: Next): Promise<void> {
    const trusted = trust.mode === 'all' || (trust.mode === 'list' && isAddressInList(ctx.req.socket.remoteAddress, list));
    if (!trusted) for (const header of FORWARDED_HEADERS) delete ctx.req.headers[header];
    await next();
  };
}
