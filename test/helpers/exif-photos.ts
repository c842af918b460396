import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';

/*
 * A camera's JPEG as families' cameras and phones write them: the facts the viewer may show
 * (camera, lens, exposure) beside everything it must never show (where, whose, which camera body,
 * free text that often holds an address). Tests look for every PRIVATE value in what keepsake sends.
 */

/** What must never leave the server, by what it is. */
export const PRIVATE = {
  bodySerial: 'BODYSERIAL0123456',
  lensSerial: 'LENSSERIAL9876',
  artist: 'Jane Quincy Family',
  owner: 'Owner Name Smith',
  copyright: 'Copyright Holder Jones',
  description: '12 Rosebud Lane, Springfield',
  comment: 'The spare key is under the mat',
} as const;

/** The photo's GPS: 48°51'30" N, 2°17'40.2" E. Any of these in a response is a leak. */
export const GPS_TRACES = ['48.85', '48.86', '2.29', '2.3,', 'GPS', 'latitude', 'longitude'] as const;

/** What the allow-list keeps of it, as the API presents it. */
export const ALLOWED_INFO = {
  camera: 'Canon EOS R6',
  lens: 'RF24-105mm F4 L IS USM',
  exposureSeconds: 1 / 250,
  fNumber: 2.8,
  iso: 400,
  focalLengthMm: 50,
  focalLength35mm: 50,
} as const;

export interface CameraJpegOptions {
  readonly width?: number;
  readonly height?: number;
  readonly colour?: string;
  /** EXIF orientation (6: stored sideways, shown turned a quarter clockwise). */
  readonly orientation?: number;
  /** Replace or add IFD0 / EXIF IFD entries (a hostile camera). */
  readonly image?: Record<string, string>;
  readonly photo?: Record<string, string>;
}

/** A JPEG whose EXIF holds ALLOWED_INFO's facts and every PRIVATE value, with GPS. */
export async function cameraJpeg(options: CameraJpegOptions = {}): Promise<Buffer> {
  const { width = 90, height = 60, colour = '#3366cc' } = options;
  const image = sharp({ create: { width, height, channels: 3, background: colour } })
    .jpeg({ quality: 85 })
    .withExif({
      IFD0: {
        Make: 'Canon',
        Model: 'Canon EOS R6',
        Artist: PRIVATE.artist,
        Copyright: PRIVATE.copyright,
        ImageDescription: PRIVATE.description,
        ...options.image,
      },
      IFD2: {
        DateTimeOriginal: '2024:05:06 07:08:09',
        LensModel: ALLOWED_INFO.lens,
        ExposureTime: '1/250',
        FNumber: '28/10',
        ISOSpeedRatings: '400',
        FocalLength: '50/1',
        FocalLengthIn35mmFilm: '50',
        BodySerialNumber: PRIVATE.bodySerial,
        LensSerialNumber: PRIVATE.lensSerial,
        CameraOwnerName: PRIVATE.owner,
        UserComment: PRIVATE.comment,
        ...options.photo,
      },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 30/1', GPSLongitudeRef: 'E', GPSLongitude: '2/1 17/1 402/10' },
    });
  return (options.orientation === undefined ? image : image.withMetadata({ orientation: options.orientation })).toBuffer();
}

export async function writeCameraJpeg(file: string, options: CameraJpegOptions = {}): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, await cameraJpeg(options));
}
