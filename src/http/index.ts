export { createApp, type AppDeps } from './app.js';
export { ROBOTS_TXT } from './routes/health.js';
export type { DerivativeNaming } from './media-urls.js';
