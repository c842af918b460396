export { newToken } from './tokens.js';
export { createTokenLink, hasTokenLink, listTokenLinks, removeTokenLink, removeTokenLinks, WebRootError } from './token-links.js';
export { createViews, type Views, type ViewSpec } from './views.js';
export { keyViewName, keyViewSpec, PREVIEW_VIEW, PREVIEW_VIEW_SPEC, shareViewName, shareViewSpec, syncGrantViews } from './grant-views.js';
export { createSessionLinks, type SessionLinks, type SessionGrant, type LoginStep } from './session-links.js';
export { startSweeper, sweepIntervalMs, type Sweeper } from './sweeper.js';
