export { createRequestHandler, type AppDeps } from './app.js';
export { answerClientError } from './errors.js';
export type { DerivativeNaming } from './media-urls.js';
