import type { RequestListener } from 'node:http';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';
import type { Context, Next } from 'koa';
import type { Access } from '../access/index.js';
import type { Config } from '../config.js';
import type { Derivatives, SourceImage } from '../derivatives/index.js';
import {
  compileGuard,
  compileProxyTrust,
  createLoginThrottle,
  memoryCounters,
  createMediaBudget,
  createMissLimiter,
  userAgentPolicyTag,
  type Counters,
  type GuardConfig,
  type TrustedProxies,
} from '../guard/index.js';
import type { MediaItem } from '../library/index.js';
import type { Logger } from '../log.js';
import { CACHE_POLICY, REFUSAL_BODIES, TEXT_TYPE } from '../media-contract.js';
import type { ReceiptRecorder } from '../receipts/index.js';
import type { RefusalsTable } from '../store/index.js';
import type { Ui } from '../ui/index.js';
import { handleErrors, logRequest } from './errors.js';
import { fastMedia } from './fast-media.js';
import { guardMedia, guardMisses, guardRefusals, guardRequests } from './guard.js';
import { securityHeaders } from './headers.js';
import { previewOnLoopback } from './preview-session.js';
import type { GatedLibrary } from './visible-library.js';
import { createCookieSigner } from './cookie-keys.js';
import { createLinkCookies } from './link-cookie.js';
import type { DerivativeNaming } from './media-urls.js';
import { createAccelPaths, createMemoryCache } from './memory-cache.js';
import { clientAddress } from './proxy.js';
import { albumsApi } from './routes/albums-api.js';
import { albumDownloadRoutes } from './routes/album-download.js';
import { authRoutes } from './routes/auth.js';
import { health, robots } from './routes/health.js';
import { mediaRoute } from './routes/media.js';
import { deviceRoutes } from './routes/devices.js';
import { reviewRoutes } from './routes/review.js';
import { pages } from './routes/pages.js';
import { timelineRoutes } from './routes/timeline.js';
import { manifestRoute } from './routes/manifest.js';
import { preferencesRoute } from './display.js';
import { placesApi } from './routes/places-api.js';
import { shareRoutes } from './routes/shares.js';
import { createKoaSessionStore } from './session-store.js';
import { commitAfter, renewOnArrival, sessionMiddleware } from './session.js';

export interface AppDeps {
  readonly config: Config;
  readonly guard: GuardConfig;
  readonly trustProxy: TrustedProxies;
  readonly log: Logger;
  readonly access: Access;
  readonly library: GatedLibrary;
  readonly derivatives: Derivatives;
  readonly sourceOf: (item: MediaItem) => SourceImage;
  readonly ui: Ui;
  /** Real paths of where media bytes live. */
  readonly mediaRoot: string;
  readonly cacheDir: string;
  readonly isHealthy: () => Promise<boolean>;
  readonly refusals: RefusalsTable;
  readonly secrets: { readonly cookieKey: string; readonly guardKey: string; readonly linkKey: string };
  readonly receipts: ReceiptRecorder;
  /** Where the guard counts (several nodes: in the shared database). Default: in this process. */
  readonly counters?: Counters;
  /** False while this node may not serve (cut off from the shared database): every answer but /healthz is a 503. */
  readonly isServing?: () => boolean;
}

function serveAssets(ui: Ui) {
  return async function assets(ctx: Context, next: Next): Promise<void> {
    if (!ctx.path.startsWith('/assets/')) return next();
    const asset = ui.assets.find(ctx.path);
    if (asset === undefined) return next();
    // Fingerprinted names change with their content, so browsers may keep them for good.
    ctx.set('Cache-Control', CACHE_POLICY.asset);
    ctx.type = asset.type;
    ctx.body = asset.body;
  };
}

/** With X-Accel: how many verified derivative paths are remembered (a few hundred bytes each), and for how long. */
const ACCEL_PATH_ENTRIES = 50_000;
const ACCEL_PATH_MAX_AGE_MS = 60_000;

/**
 * keepsake's handler for node:http, fully wired but not listening: the Koa application, with
 * derivatives already in memory answered in front of it by the same checks (fast-media.ts).
 */
export function createRequestHandler(deps: AppDeps): RequestListener {
  const handler = createServingHandler(deps);
  const { isServing } = deps;
  if (isServing === undefined) return handler;
  return (request, response) => {
    if (isServing() || request.url === '/healthz') return handler(request, response);
    const started = performance.now();
    response.writeHead(503, { 'Content-Type': TEXT_TYPE, 'Retry-After': '5', 'Cache-Control': 'no-store' });
    response.end(REFUSAL_BODIES[503]);
    logRequest(deps.log, { method: request.method ?? 'GET', path: (request.url ?? '/').split('?')[0]!, status: 503, started, refused: 'database-unreachable' });
  };
}

function createServingHandler(deps: AppDeps): RequestListener {
  const { config, log, access } = deps;
  const app = new Koa({ proxy: deps.trustProxy.mode !== 'none' });
  const signer = createCookieSigner([deps.secrets.cookieKey]);
  const trust = compileProxyTrust(deps.trustProxy);
  app.keys = signer as unknown as Koa['keys'];
  app.silent = true;
  const store = createKoaSessionStore(access);
  const linkCookies = createLinkCookies({ secret: deps.secrets.linkKey, policy: userAgentPolicyTag(deps.guard.userAgents) });
  const guardDeps = {
    guard: deps.guard,
    publicUrl: config.publicUrl,
    log,
    refusals: deps.refusals,
    guardSecret: deps.secrets.guardKey,
    mediaBudget: createMediaBudget(deps.guard.rates, deps.counters ?? memoryCounters),
    misses: createMissLimiter(deps.guard.rates.misses, deps.guard.rates.enabled),
    endSession: access.endSession,
  };
  const refuse = guardRefusals(guardDeps);
  const auth = authRoutes({ publicUrl: config.publicUrl, log, access, ui: deps.ui, loginThrottle: createLoginThrottle(deps.guard.login, deps.counters ?? memoryCounters), refuse });
  const naming: DerivativeNaming = {
    variants: deps.derivatives.servedVariants,
    leafFor: (item, variant) => deps.derivatives.leafFor(item, variant),
  };
  const api = albumsApi({ library: deps.library, naming });
  const page = pages({ library: deps.library, ui: deps.ui, naming, guardSecret: deps.secrets.guardKey, deterrents: config.deterrents, honeypot: deps.guard.honeypot.enabled });
  const share = shareRoutes({ publicUrl: config.publicUrl, log, ui: deps.ui, access });
  const mediaDeps = {
    library: deps.library,
    derivatives: deps.derivatives,
    mediaRoot: deps.mediaRoot,
    cacheDir: deps.cacheDir,
    accel: config.accel === 'nginx',
    sourceOf: deps.sourceOf,
    admitMiss: guardMisses(guardDeps),
    // With X-Accel, nginx sends the bytes: keeping them here too would only cost memory.
    memory: config.accel === 'nginx' || config.memoryCacheBytes === 0 ? undefined : createMemoryCache(config.memoryCacheBytes),
    accelPaths: config.accel === 'nginx' && config.memoryCacheBytes > 0 ? createAccelPaths(ACCEL_PATH_ENTRIES, ACCEL_PATH_MAX_AGE_MS) : undefined,
    linkCookies,
    receipts: deps.receipts,
  };
  const media = mediaRoute(mediaDeps);
  const loginBody = bodyParser({ enableTypes: ['json', 'form'], jsonLimit: '8kb', formLimit: '8kb' });

  const router = new Router();
  router.get('/healthz', health(deps.isHealthy));
  router.get('/robots.txt', robots);
  router.get('/login', auth.showLogin);
  router.post('/login', loginBody, auth.login);
  router.post('/logout', auth.logout);
  router.get('/api/me', auth.me);
  router.get('/api/albums', api.list);
  router.get(/^\/api\/albums\/.+$/, api.show);
  const places = placesApi({ library: deps.library, ui: deps.ui });
  router.get('/api/places', places.api);
  router.get('/places', places.page);
  const devices = deviceRoutes({ publicUrl: config.publicUrl, log, ui: deps.ui, access });
  router.get(/^\/enrol\/[^/]+$/, devices.showCard);
  router.post(/^\/enrol\/[^/]+$/, devices.useCard);
  const review = reviewRoutes({ publicUrl: config.publicUrl, log, ui: deps.ui, access });
  router.get(/^\/review\/[A-Za-z0-9_-]{43}$/, review.show);
  router.post(/^\/review\/[A-Za-z0-9_-]{43}$/, review.open);
  router.get('/device', devices.showDevice);
  router.post('/device', loginBody, devices.nameDevice);
  router.get(/^\/s\/[^/]+$/, share.show);
  router.post(/^\/s\/[^/]+$/, share.open);
  router.get('/', page.home);
  router.get(/^\/albums\/.+$/, page.album);
  const download = albumDownloadRoutes({ media: mediaDeps, naming, publicUrl: config.publicUrl, log, mediaBudget: guardDeps.mediaBudget, rates: deps.guard.rates, refuse, endSession: access.endSession });
  router.post(/^\/download\/.+$/, download.download);
  router.get(/^\/download\/.+$/, download.refuseGet);
  router.post('/preferences', loginBody, preferencesRoute(config.publicUrl));
  const timeline = timelineRoutes({ library: deps.library, ui: deps.ui, naming, deterrents: config.deterrents, honeypotFor: page.honeypotFor });
  router.get('/timeline', timeline.index);
  router.get(/^\/timeline\/[^/]+$/, timeline.month);
  router.get('/manifest.webmanifest', manifestRoute(deps.ui));

  app.use(clientAddress(trust));
  app.use(handleErrors(log));
  app.use(securityHeaders());
  app.use(guardRequests(guardDeps));
  app.use(serveAssets(deps.ui));
  app.use(sessionMiddleware(app, store, config.sessionTtlMs, linkCookies));
  app.use(previewOnLoopback(log, access.endSession));
  app.use(renewOnArrival(access));
  app.use(commitAfter);
  app.use(guardMedia(guardDeps));
  app.use(media);
  app.use(router.routes());
  // A known path asked with another method: 405 and its Allow header (OPTIONS: 200 and Allow); an unknown path stays the one 404.
  app.use(router.allowedMethods());
  if (mediaDeps.memory === undefined && mediaDeps.accelPaths === undefined) return app.callback();
  return fastMedia(
    {
      koa: app,
      trust,
      guard: deps.guard,
      compiledGuard: compileGuard(deps.guard),
      publicUrl: config.publicUrl,
      signer,
      access,
      guardSecret: deps.secrets.guardKey,
      media: mediaDeps,
      mediaBudget: guardDeps.mediaBudget,
      log,
    },
    app.callback(),
  );
}
