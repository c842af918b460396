/*
 * Google's Motion Photos (Pixel, Samsung and most Android cameras): a JPEG (or HEIC) with a short
 * MP4 appended after the picture, announced in the photo's XMP. Two dialects say where it starts:
 * the older `GCamera:MicroVideoOffset` (bytes from the end of the file), and the newer
 * `Camera:MotionPhoto` with a `Container:Directory` whose MotionPhoto item gives its `Length`
 * (the last item, so it too ends the file). Either way the video is the file's last N bytes, so
 * cutting it out costs one read; it is believed only when those bytes begin like an MP4.
 * Pure: the XMP text in, the length out.
 */

/** Longer than this, a trailing "video" is not a few seconds of motion: the photo shows as a photo. */
export const MAX_MOTION_BYTES = 200 * 1024 * 1024;

/** An attribute or element of that name: `Name="123"` or `<Name>123</Name>`. */
function numberOf(xmp: string, name: string, from = 0): number | undefined {
  const text = xmp.slice(from);
  const match = new RegExp(`${name}\\s*=\\s*["'](\\d+)["']|<${name}>\\s*(\\d+)\\s*</${name}>`).exec(text);
  const value = match === null ? Number.NaN : Number(match[1] ?? match[2]);
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** The MotionPhoto item of a Container:Directory: from its Semantic to the end of its description. */
function directoryLength(xmp: string): number | undefined {
  const semantic = /Item:Semantic\s*=\s*["']MotionPhoto["']|<Item:Semantic>\s*MotionPhoto\s*</.exec(xmp);
  if (semantic === null) return undefined;
  // The item's attributes may stand before or after its Semantic: look within its own element.
  const start = Math.max(xmp.lastIndexOf('<rdf:li', semantic.index), xmp.lastIndexOf('<Container:Item', semantic.index), 0);
  return numberOf(xmp, 'Item:Length', start);
}

/** The length of the MP4 at the end of a Motion Photo of `fileSize` bytes, from its XMP; undefined for any other photo. */
export function motionVideoLength(xmp: string, fileSize: number): number | undefined {
  const isMotion = /(?:GCamera:MicroVideo|Camera:MotionPhoto)\s*=\s*["']1["']|<(?:GCamera:MicroVideo|Camera:MotionPhoto)>\s*1\s*</.test(xmp);
  if (!isMotion) return undefined;
  const length = numberOf(xmp, 'GCamera:MicroVideoOffset') ?? directoryLength(xmp);
  return length !== undefined && length < fileSize && length <= MAX_MOTION_BYTES ? length : undefined;
}

/** Whether the first bytes of the cut-out really begin an MP4 (its `ftyp` box). */
export function startsLikeMp4(head: Buffer): boolean {
  return head.length >= 8 && head.toString('latin1', 4, 8) === 'ftyp';
}
