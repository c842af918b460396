import ipaddr from 'ipaddr.js';
import type { Context, Next } from 'koa';
import type { Logger } from '../log.js';
import { forgetSession, visitorOf } from './session.js';

/*
 * The admin's preview session (keepsake review --serve) sees albums waiting for review, so it is
 * good only on this machine: a request of it from any other address (its cookie copied, or
 * through a proxy) ends it. It gets no link cookie, so no static server in front ever sends its
 * media from disk: everything it asks for comes to keepsake, through this check.
 */

export function isLoopbackAddress(address: string): boolean {
  try {
    return ipaddr.process(address).range() === 'loopback';
  } catch {
    return false;
  }
}

export function previewOnLoopback(log: Logger, endSession: (sid: string) => Promise<boolean>) {
  return async function loopbackPreview(ctx: Context, next: Next): Promise<void> {
    const visitor = visitorOf(ctx);
    if (visitor?.preview === true && !isLoopbackAddress(ctx.ip)) {
      log.warn({ address: ctx.ip }, 'preview session used from another address; ended');
      await endSession(visitor.sid);
      forgetSession(ctx, visitor);
    }
    await next();
  };
}
