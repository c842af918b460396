import type { Context } from 'koa';

/** One body for every "no": nothing can be learned by comparing answers. */
export const NOT_FOUND_BODY = 'Not Found\n';

export function respondNotFound(ctx: Context): void {
  ctx.status = 404;
  ctx.type = 'text/plain; charset=utf-8';
  ctx.body = NOT_FOUND_BODY;
}
