import path from 'node:path';

export type MediaType = 'image' | 'video';

/** Every extension keepsake catalogues and serves; anything else is never served. */
export const MEDIA_EXTENSIONS: Readonly<Record<string, MediaType>> = {
  '.jpg': 'image',
  '.jpeg': 'image',
  '.png': 'image',
  '.webp': 'image',
  '.avif': 'image',
  '.gif': 'image',
  '.tif': 'image',
  '.tiff': 'image',
  '.heic': 'image',
  '.heif': 'image',
  '.mp4': 'video',
  '.m4v': 'video',
  '.webm': 'video',
  '.mov': 'video',
};

export function mediaTypeOf(fileName: string): MediaType | undefined {
  return MEDIA_EXTENSIONS[path.extname(fileName).toLowerCase()];
}
