import { createHash } from 'node:crypto';
import path from 'node:path';
import { DERIVATIVE_HASH_LENGTH, derivativeExtensions, isPlainSegment, MAX_NAME_BYTES } from '../media-contract.js';
import { IMAGE_LIBRARY_VERSION } from '../decoders.js';
import { isWithin } from '../paths.js';
import type { EncoderSettings } from './formats.js';
import type { Preset } from './presets.js';
import { invalidParameter } from './presets.js';

/**
 * Bump when the pipeline changes its output for the same settings (a new resize kernel, a
 * colour fix): every cache name changes, and pruning removes the old files.
 */
export const PIPELINE_VERSION = 1;

/** Hex digits of sha256 in a cache name: 48 bits, so a collision within one album is negligible. */
export const HASH_LENGTH = DERIVATIVE_HASH_LENGTH;

/** Temp files start with a dot, so nothing that serves the cache (keepsake or nginx) serves them. */
export const TEMP_PREFIX = '.tmp-';

/** What identifies one version of one original. */
export interface SourceIdentity {
  /** The album's path relative to the media root, `/`-separated; '' for the top level. */
  readonly albumPath: string;
  /** The original's file name inside its album. */
  readonly name: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface ParsedLeaf {
  readonly sourceName: string;
  readonly hash: string;
  readonly extension: string;
}

/** A file name is at most 255 bytes on every file system keepsake runs on. */
/** Pictures in any format keepsake writes, and the video copies: the media contract's extensions. */
const LEAF_PATTERN = new RegExp(`^(.+)\\.([0-9a-f]{${HASH_LENGTH}})\\.(${[...derivativeExtensions('image'), ...derivativeExtensions('video')].join('|')})$`);

export function isAlbumPath(albumPath: string): boolean {
  return albumPath === '' || albumPath.split('/').every(isPlainSegment);
}

/** The short hash of everything that changes a derivative's bytes. */
export function derivativeHash(source: SourceIdentity, preset: Preset, encoder: EncoderSettings): string {
  const material = JSON.stringify([
    PIPELINE_VERSION,
    IMAGE_LIBRARY_VERSION,
    source.albumPath,
    source.name,
    source.size,
    source.mtimeMs,
    [preset.width, preset.height, preset.fit, preset.position],
    [encoder.format, encoder.quality, encoder.effort ?? null],
  ]);
  return createHash('sha256').update(material).digest('hex').slice(0, HASH_LENGTH);
}

/**
 * `<sourceName>.<hash>.<ext>`, e.g. `IMG_0001.jpg.3fa9c2d1e0ab.webp`: the URL's last segment
 * and the cache file's name, so a static server can serve the same file.
 */
export function leafName(source: SourceIdentity, hash: string, extension: string): string {
  if (!isPlainSegment(source.name)) throw invalidParameter('source.name', 'a plain, non-hidden file name', source.name);
  if (!isAlbumPath(source.albumPath)) {
    throw invalidParameter('source.albumPath', "'' or '/'-separated plain folder names", source.albumPath);
  }
  return `${source.name}.${hash}.${extension}`;
}

/** True when `leaf` fits in one directory entry. */
export function fitsFileSystem(leaf: string): boolean {
  return Buffer.byteLength(leaf) <= MAX_NAME_BYTES;
}

/** The inverse of `leafName`; undefined for anything keepsake did not name (temp files included). */
export function parseLeaf(leaf: string): ParsedLeaf | undefined {
  const match = LEAF_PATTERN.exec(leaf);
  if (match === null) return undefined;
  const [, sourceName, hash, extension] = match;
  if (sourceName === undefined || hash === undefined || extension === undefined) return undefined;
  if (!isPlainSegment(sourceName)) return undefined;
  return { sourceName, hash, extension };
}

/**
 * `<cacheDir>/<variant>/<albumPath>/<leaf>`. Every part is checked, so a bad album path or leaf
 * can never name a file outside the cache.
 */
export function cacheFilePath(cacheDir: string, variant: string, albumPath: string, leaf: string): string {
  if (!isPlainSegment(variant)) throw invalidParameter('variant', 'a variant name', variant);
  if (!isAlbumPath(albumPath)) throw invalidParameter('albumPath', "'' or '/'-separated plain folder names", albumPath);
  if (parseLeaf(leaf) === undefined) throw invalidParameter('leaf', '<sourceName>.<hash>.<extension>', leaf);
  const file = path.join(cacheDir, variant, ...(albumPath === '' ? [] : albumPath.split('/')), leaf);
  if (!isWithin(cacheDir, file)) throw invalidParameter('albumPath', 'a path inside the cache', albumPath);
  return file;
}
