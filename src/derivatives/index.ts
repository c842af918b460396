/**
 * Derivatives: the sharp renditions (thumb, small, medium, large) of the originals, made once,
 * cached under `<cacheDir>/<variant>/<album>/<leaf>` and named by everything that shapes them.
 */
export { createDerivatives, servedVariantsOf } from './derivatives.js';
export { cutMotionVideo, videoFile, type OpenedVideo } from './playable-copies.js';
export type { DerivativeStats, Derivatives, SourceImage, SourceLookup } from './derivatives.js';
export { DERIVATIVE_ERROR_CODES, DerivativeError, isDerivativeError } from './errors.js';
export type { DerivativeErrorCode } from './errors.js';
export { OUTPUT_FORMATS } from './formats.js';
export type { OutputFormat } from './formats.js';
export { PIPELINE_VERSION, TEMP_PREFIX, parseLeaf } from './naming.js';
export type { ParsedLeaf, SourceIdentity } from './naming.js';
export { DEFAULT_LIMIT_INPUT_PIXELS, DEFAULT_TIME_LIMIT_MS } from './options.js';
export type { DerivativesOptions } from './options.js';
export { configuredVariants, DEFAULT_PRESETS, DEFAULT_VARIANTS, presetsSection, variantOutputSize } from './presets.js';
export type { CropPosition, Fit, Preset, PresetInput, Size } from './presets.js';
export { PRIORITIES } from './queue.js';
export type { Priority } from './queue.js';

/** The default variant names in order; `derivatives.variants` lists the configured ones. */
export { DEFAULT_VARIANTS as variants } from './presets.js';
