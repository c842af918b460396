import type { Context, Next } from 'koa';
import helmet from 'helmet';

const ROBOTS = 'noindex, nofollow, noimageindex';
const PERMISSIONS = 'camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=(), browsing-topics=()';

const helmetHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:', 'blob:'],
      mediaSrc: ["'self'"],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'same-origin' },
  // HSTS only makes sense over TLS; set below when the request is secure.
  strictTransportSecurity: false,
  crossOriginResourcePolicy: { policy: 'same-origin' },
});

/** Security and privacy headers on every response, errors and 404s included (helmet does the work). */
export function securityHeaders() {
  return async function headers(ctx: Context, next: Next): Promise<void> {
    await new Promise<void>((resolve, reject) => helmetHeaders(ctx.req, ctx.res, (error?: unknown) => (error ? reject(error) : resolve())));
    ctx.set('X-Robots-Tag', ROBOTS);
    ctx.set('Permissions-Policy', PERMISSIONS);
    if (ctx.secure) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
  };
}
