export { createRequestHandler, type AppDeps } from './app.js';
export type { DerivativeNaming } from './media-urls.js';
