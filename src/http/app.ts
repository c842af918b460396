import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';
import type { Context, Next } from 'koa';
import type { Keyring } from '../auth/index.js';
import type { Derivatives } from '../derivatives/index.js';
import type { Config } from '../config.js';
import type { Library } from '../library/index.js';
import type { SessionLinks, Views } from '../links/index.js';
import type { Logger } from '../log.js';
import { createLoginThrottle, createMediaBudget } from '../guard/index.js';
import { createKoaSessionStore, type RefusalsTable, type SessionsTable, type SharesTable } from '../store/index.js';
import type { Ui } from '../ui/index.js';
import { handleErrors } from './errors.js';
import { securityHeaders } from './headers.js';
import type { DerivativeNaming } from './media-urls.js';
import { derivativeRoute } from './routes/derivatives.js';
import { guardMedia, guardRefusals, guardRequests } from './guard.js';
import { forgetUntrustedForwarding } from './proxy.js';
import { albumsApi } from './routes/albums-api.js';
import { authRoutes } from './routes/auth.js';
import { health, robots } from './routes/health.js';
import { mediaRoutes } from './routes/media.js';
import { pages } from './routes/pages.js';
import { shareRoutes } from './routes/shares.js';
import { commitAfter, sessionMiddleware } from './session.js';

export interface AppDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly cookieKeys: readonly string[];
  readonly keyring: Keyring;
  readonly sessions: SessionsTable;
  readonly sessionLinks: SessionLinks;
  readonly library: Library;
  readonly ui: Ui;
  /** Real path of the media root (symlinks resolved). */
  readonly mediaRoot: string;
  /** Real path of the derivative cache. */
  readonly cacheDir: string;
  readonly derivatives: Derivatives;
  readonly isHealthy: () => Promise<boolean>;
  readonly refusals: RefusalsTable;
  /** Server secret for the honeypot and share links. */
  readonly guardSecret: string;
  /** Secret behind the static server's token cookie. */
  readonly linkSecret: string;
  readonly shares: SharesTable;
  readonly views: Views;
  readonly derivativeVariants: readonly string[];
}

/** nginx's internal locations (see `keepsake nginx-config`) for X-Accel-Redirect. */
export const ACCEL_PREFIXES = { media: '/_keepsake/media/', cache: '/_keepsake/cache/' } as const;

function serveAssets(ui: Ui) {
  return async function assets(ctx: Context, next: Next): Promise<void> {
    if (!ctx.path.startsWith('/assets/')) return next();
    const asset = ui.assets.find(ctx.path);
    if (asset === undefined) return next();
    // Fingerprinted names change with their content, so browsers may keep them for good.
    ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
    ctx.type = asset.type;
    ctx.body = asset.body;
  };
}

/** The Koa application, fully wired but not listening (tests and main.ts both call listen). */
export function createApp(deps: AppDeps): Koa {
  const { config, log } = deps;
  const app = new Koa({ proxy: config.trustProxy.mode !== 'none', keys: [...deps.cookieKeys] });
  app.silent = true;
  const store = createKoaSessionStore(deps.sessions, async (sid) => {
    await deps.sessionLinks.end(sid);
  });
  const guardDeps = { ...deps, mediaBudget: createMediaBudget(config.guard.rates) };
  const auth = authRoutes({ ...deps, loginThrottle: createLoginThrottle(config.guard.login), refuse: guardRefusals(deps) });
  const naming: DerivativeNaming = {
    variants: deps.derivatives.variants,
    leafFor: (item, variant) => deps.derivatives.leafFor(item, variant),
  };
  const api = albumsApi({ ...deps, naming });
  const page = pages({ ...deps, naming, mediaRootLabel: config.mediaRoot, deterrents: config.deterrents, honeypot: config.guard.honeypot.enabled });
  const share = shareRoutes(deps);
  const accel = config.accel === 'nginx';
  const serveDerivative = derivativeRoute({ ...deps, webRoot: config.webRoot, accelPrefix: accel ? ACCEL_PREFIXES.cache : undefined });
  const loginBody = bodyParser({ enableTypes: ['json', 'form'], jsonLimit: '8kb', formLimit: '8kb' });

  const router = new Router();
  router.get('/healthz', health(deps.isHealthy));
  router.get('/robots.txt', robots);
  router.post('/login', loginBody, auth.login);
  router.post('/logout', auth.logout);
  router.get('/api/me', auth.me);
  router.get('/api/albums', api.list);
  router.get(/^\/api\/albums\/.+$/, api.show);
  router.get(/^\/s\/[^/]+$/, share.show);
  router.post(/^\/s\/[^/]+$/, share.open);
  router.get('/', page.home);
  router.get(/^\/albums\/.+$/, page.album);

  app.use(forgetUntrustedForwarding(config.trustProxy));
  app.use(handleErrors(log));
  app.use(securityHeaders());
  app.use(guardRequests(guardDeps));
  app.use(serveAssets(deps.ui));
  app.use(sessionMiddleware(app, store, config.sessionTtlMs));
  app.use(commitAfter);
  app.use(guardMedia(guardDeps));
  app.use(mediaRoutes({ webRoot: config.webRoot, mediaRoot: deps.mediaRoot, serveDerivative, accelPrefix: accel ? ACCEL_PREFIXES.media : undefined }));
  app.use(router.routes());
  return app;
}
