import type { Library } from '../library/index.js';

/** The catalogue as visitors see it, with the admin's preview beside it (albums waiting for review too). */
export interface GatedLibrary extends Library {
  readonly preview: Library;
  /** Someone is looking at this album: the background work it waits for (placeholders) does it first. */
  lookingAt(albumPath: string): void;
}

/** The catalogue a visitor sees: the admin's preview session (review --serve) also sees what waits for review. */
export function libraryFor(library: GatedLibrary, visitor: { readonly preview?: boolean } | undefined): Library {
  return visitor?.preview === true ? library.preview : library;
}
