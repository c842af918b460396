import type { Context } from 'koa';
import { REFUSAL_BODIES, TEXT_TYPE, type RefusalStatus } from '../media-contract.js';

/** Answers with the contract's body for this status: a refusal reads the same whoever gave it. */
export function respondRefusal(ctx: Context, status: RefusalStatus): void {
  ctx.status = status;
  ctx.type = TEXT_TYPE;
  ctx.body = REFUSAL_BODIES[status];
}

/** One body for every "no": nothing can be learned by comparing answers. */
export function respondNotFound(ctx: Context): void {
  respondRefusal(ctx, 404);
}
