import { LONGEST_SOURCE_NAME_BYTES } from '../media-contract.js';

/** Why a file or folder under the media root is not in the catalogue; the keys are stored. */
export const SKIP_REASONS = {
  hidden: 'hidden file or folder',
  'unservable-name': 'its name holds a control character (a line break, a tab) or a backslash, which no URL or web-server rule carries whole: rename it',
  'name-too-long': `its name is too long for the file names of its derivatives (at most ${LONGEST_SOURCE_NAME_BYTES} bytes): shorten it`,
  ignored: 'a name on the ignored list (a NAS recycle bin, thumbnails, OS litter; KEEPSAKE_IGNORED_NAMES)',
  'not-media': 'not a supported media type',
  empty: 'empty file',
  'not-regular': 'neither a regular file nor a folder',
  'symlink-outside': 'symlink leads outside the media root',
  'symlink-crosses-albums': 'symlink leads out of the album it is in (into another album, or above it)',
  'symlink-hidden': 'symlink leads to a hidden file or folder',
  'symlink-ignored': 'symlink leads to a name on the ignored list (a NAS recycle bin, thumbnails; KEEPSAKE_IGNORED_NAMES)',
  'symlink-waits': 'symlink to a photo in another folder, which may be waiting for review: with KEEPSAKE_PUBLISH=review a photo link is followed only within its own folder',
  'symlink-loop': 'symlink leads back to a folder above it',
  'symlink-broken': 'symlink leads nowhere',
  unreadable: 'cannot be read (permissions?)',
  'unreadable-image': 'image cannot be decoded',
  'not-a-photo': 'its content is not one of the photo formats keepsake reads (whatever its name says)',
  'too-many-pixels': 'image has more pixels than allowed (possible decompression bomb)',
  // Given by keepsake before it decoded HEIC itself; such files are read again at the next scan.
  'heic-unsupported': 'HEIC/HEIF photos could not be decoded by this version of keepsake',
} as const;

export type SkipReason = keyof typeof SKIP_REASONS;

/**
 * Reasons found only by reading the file. A file skipped for one of these is not read again
 * until its size or mtime changes: decoding is the expensive part of a scan.
 */
export const CONTENT_REASONS: ReadonlySet<SkipReason> = new Set<SkipReason>([
  'unreadable-image',
  'not-a-photo',
  'too-many-pixels',
]);

/** Worth an admin's attention (broken photos, links that try to leave the root) rather than routine. */
export const WARNING_REASONS: ReadonlySet<SkipReason> = new Set<SkipReason>([
  ...CONTENT_REASONS,
  'symlink-outside',
  'symlink-crosses-albums',
  'symlink-loop',
  'symlink-waits',
  'unreadable',
  'unservable-name',
  'name-too-long',
]);

export function isSkipReason(value: string): value is SkipReason {
  return Object.hasOwn(SKIP_REASONS, value);
}

/**
 * A remembered skip. Size and mtime are 0 for reasons decided by the name or kind alone
 * (hidden, not media), so such a skip is "the same" as long as the reason is.
 */
export interface SkipRecord {
  readonly path: string;
  readonly reason: SkipReason;
  readonly size: number;
  readonly mtimeMs: number;
}

export function isSameSkip(a: SkipRecord | undefined, b: SkipRecord): boolean {
  return a !== undefined && a.reason === b.reason && a.size === b.size && a.mtimeMs === b.mtimeMs;
}
