export { createLibrary, type LibraryOptions, type LibraryService } from './library.js';
export type { AlbumListing, AlbumLocation, AlbumSummary, Library, MediaItem } from './types.js';
export type { AlbumChange, ChangeListener, ItemChange, LibraryChange } from './events.js';
export type { ScanReport } from './scanner.js';
export { LibraryError } from './media-root.js';
export { IMAGE_INPUT_OPTIONS, MAX_INPUT_PIXELS, readImageFacts, type ImageFacts, type ImageReader } from './metadata.js';
export { findRefusedLinks } from './link-report.js';
export { DEFAULT_IGNORED_NAMES, ignoredNamesSection, ignoredNamesSource } from './ignored-names.js';
export type { SkipRecord } from './skip-reasons.js';
