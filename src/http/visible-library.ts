import type { Library } from '../library/index.js';

/** The catalogue as visitors see it, with the admin's preview beside it (albums waiting for review too). */
export interface GatedLibrary extends Library {
  readonly preview: Library;
}

/** The catalogue a visitor sees: the admin's preview session (review --serve) also sees what waits for review. */
export function libraryFor(library: GatedLibrary, visitor: { readonly preview?: boolean } | undefined): Library {
  return visitor?.preview === true ? library.preview : library;
}
