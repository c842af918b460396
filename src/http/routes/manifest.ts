import type { Context } from 'koa';
import type { Ui } from '../../ui/index.js';
import { displayOf } from '../display.js';

/** GET /manifest.webmanifest: public (browsers fetch it without cookies), and the same for everyone but its language. */
export function manifestRoute(ui: Ui) {
  return function manifest(ctx: Context): void {
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('Vary', 'Accept-Language, Cookie');
    ctx.type = 'application/manifest+json';
    ctx.body = JSON.stringify(ui.manifest(displayOf(ctx)));
  };
}
