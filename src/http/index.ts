export { createApp, type AppDeps } from './app.js';
export type { DerivativeNaming } from './media-urls.js';
