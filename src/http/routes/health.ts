import type { Context } from 'koa';

import { ROBOTS_TXT } from '../../guard/index.js';

export function robots(ctx: Context): void {
  ctx.type = 'text/plain; charset=utf-8';
  ctx.set('Cache-Control', 'public, max-age=86400');
  ctx.body = ROBOTS_TXT;
}

/** 200 when the database answers and the folders are usable, else 503: for Docker and monitors. */
export function health(isHealthy: () => Promise<boolean>) {
  return async function healthz(ctx: Context): Promise<void> {
    const ok = await isHealthy();
    ctx.status = ok ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { ok };
  };
}
