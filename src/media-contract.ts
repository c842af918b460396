import { createHash } from 'node:crypto';

/*
 * The media contract, defined once. What a media URL looks like, which kinds of file each
 * variant may serve and from where, what a refusal says, how media may be cached, how a token
 * is bound to a browser for a static server, and how secrets in a URL are shortened for logs.
 * keepsake's own routes, the per-key views on disk and every generated server configuration
 * (nginx, lighttpd, Apache) are derived from this file, so no rule can drift between them.
 * A leaf: it imports nothing of the project.
 */

// ── Tokens ─────────────────────────────────────────────────────────────────────────────────

/** A session's link name: letters only, its length itself random within these bounds. */
export const TOKEN_LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const TOKEN_MIN_LENGTH = 11;
export const TOKEN_MAX_LENGTH = 17;
/** The token as a regular expression source, for keepsake and for every server configuration. */
export const TOKEN_SOURCE = `[A-Za-z]{${TOKEN_MIN_LENGTH},${TOKEN_MAX_LENGTH}}`;
/** The only names the sweeper may ever delete from the web root. */
export const TOKEN_PATTERN = new RegExp(`^${TOKEN_SOURCE}$`);

export function isToken(name: string): boolean {
  return TOKEN_PATTERN.test(name);
}

// ── Kinds of file ──────────────────────────────────────────────────────────────────────────

export type MediaKind = 'image' | 'video';

export interface MediaFormat {
  readonly kind: MediaKind;
  readonly mime: string;
  /** A camera RAW file: shown through the JPEG preview the camera embedded in it (raw-previews.ts). */
  readonly raw?: true;
}

/** Every extension keepsake catalogues and serves (lower case, with the dot); nothing else is ever served. */
export const MEDIA_FORMATS: Readonly<Record<string, MediaFormat>> = Object.freeze({
  '.jpg': { kind: 'image', mime: 'image/jpeg' },
  '.jpeg': { kind: 'image', mime: 'image/jpeg' },
  '.png': { kind: 'image', mime: 'image/png' },
  '.webp': { kind: 'image', mime: 'image/webp' },
  '.avif': { kind: 'image', mime: 'image/avif' },
  '.gif': { kind: 'image', mime: 'image/gif' },
  '.tif': { kind: 'image', mime: 'image/tiff' },
  '.tiff': { kind: 'image', mime: 'image/tiff' },
  '.heic': { kind: 'image', mime: 'image/heic' },
  '.heif': { kind: 'image', mime: 'image/heif' },
  '.dng': { kind: 'image', mime: 'image/x-adobe-dng', raw: true },
  '.cr2': { kind: 'image', mime: 'image/x-canon-cr2', raw: true },
  '.cr3': { kind: 'image', mime: 'image/x-canon-cr3', raw: true },
  '.nef': { kind: 'image', mime: 'image/x-nikon-nef', raw: true },
  '.arw': { kind: 'image', mime: 'image/x-sony-arw', raw: true },
  '.raf': { kind: 'image', mime: 'image/x-fuji-raf', raw: true },
  '.orf': { kind: 'image', mime: 'image/x-olympus-orf', raw: true },
  '.mp4': { kind: 'video', mime: 'video/mp4' },
  '.m4v': { kind: 'video', mime: 'video/x-m4v' },
  '.webm': { kind: 'video', mime: 'video/webm' },
  '.mov': { kind: 'video', mime: 'video/quicktime' },
  '.3gp': { kind: 'video', mime: 'video/3gpp' },
  '.mkv': { kind: 'video', mime: 'video/x-matroska' },
  '.avi': { kind: 'video', mime: 'video/x-msvideo' },
  '.mts': { kind: 'video', mime: 'video/mp2t' },
  '.m2ts': { kind: 'video', mime: 'video/mp2t' },
  '.mpg': { kind: 'video', mime: 'video/mpeg' },
  '.mpeg': { kind: 'video', mime: 'video/mpeg' },
});

function extensionOf(fileName: string): string {
  const slash = Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\'));
  const dot = fileName.lastIndexOf('.');
  return dot > slash + 1 ? fileName.slice(dot).toLowerCase() : '';
}

export function mediaFormatOf(fileName: string): MediaFormat | undefined {
  return MEDIA_FORMATS[extensionOf(fileName)];
}

/** The Content-Type every server sends for a file of this name. */
export function mediaTypeOf(fileName: string): string {
  return mediaFormatOf(fileName)?.mime ?? 'application/octet-stream';
}

export function mediaKindOf(fileName: string): MediaKind | undefined {
  return mediaFormatOf(fileName)?.kind;
}

/** Whether this is a camera RAW file, shown through its embedded preview. */
export function isRawPhoto(fileName: string): boolean {
  return mediaFormatOf(fileName)?.raw === true;
}

/** The extensions of camera RAW files, lower case, with the dot. */
export const RAW_EXTENSIONS: readonly string[] = Object.freeze(Object.keys(MEDIA_FORMATS).filter((extension) => MEDIA_FORMATS[extension]!.raw === true));

/** The extensions (without the dot) of one kind of file. */
export function extensionsOf(kind: MediaKind): string[] {
  return Object.entries(MEDIA_FORMATS)
    .filter(([, format]) => format.kind === kind)
    .map(([extension]) => extension.slice(1));
}

// ── Derivative files ───────────────────────────────────────────────────────────────────────

/** The formats derivatives are written in: the extension is the last part of their URL. */
export const DERIVATIVE_FORMATS = Object.freeze({
  webp: { extension: 'webp', mime: 'image/webp' },
  avif: { extension: 'avif', mime: 'image/avif' },
  jpeg: { extension: 'jpg', mime: 'image/jpeg' },
} as const);
export type DerivativeFormat = keyof typeof DERIVATIVE_FORMATS;

/** The web-playable copy of a video (the `playable` variant) is H.264/AAC in MP4. */
export const PLAYABLE_FORMAT = Object.freeze({ extension: 'mp4', mime: 'video/mp4' } as const);

/** Hex digits of the settings hash in a derivative's name: `<source name>.<hash>.<extension>`. */
export const DERIVATIVE_HASH_LENGTH = 12;

/** What a derivative variant writes: a picture (in the configured image format) or a web-playable video. */
export type DerivativeOutput = 'image' | 'video';

/** The extensions a derivative of this output may end with: an image in any format keepsake writes, a video in MP4. */
export function derivativeExtensions(output: DerivativeOutput, format?: DerivativeFormat): string[] {
  if (output === 'video') return [PLAYABLE_FORMAT.extension];
  return format === undefined ? Object.values(DERIVATIVE_FORMATS).map((entry) => entry.extension) : [DERIVATIVE_FORMATS[format].extension];
}

/**
 * A derivative's last URL segment (and cache file name), as a regular expression source, ending
 * in one of `extensions`; the extension in a named group when `extensionGroup` is given.
 */
export function derivativeLeafSource(extensions: readonly string[], extensionGroup?: string): string {
  const group = extensionGroup === undefined ? '?:' : `?<${extensionGroup}>`;
  return `.+\\.[0-9a-f]{${DERIVATIVE_HASH_LENGTH}}\\.(${group}${extensions.join('|')})`;
}

// ── Variants ───────────────────────────────────────────────────────────────────────────────

/** A variant's name in a URL and in the presets: lower case, URL- and file-safe. */
export const VARIANT_SOURCE = '[a-z][a-z0-9-]{0,31}';
const VARIANT_NAME = new RegExp(`^${VARIANT_SOURCE}$`);

export const ORIGINAL = 'original';
/** A video as it was recorded, from the media root. */
export const VIDEO = 'video';
/**
 * A video as every browser plays it, with no metadata: H.264/AAC in MP4, made by ffmpeg (a copy
 * of the streams when they already are, else a transcode). Present only where ffmpeg is.
 */
export const PLAYABLE = 'playable';
/** Names a preset may not take: they name the untouched files and the video copies. */
export const RESERVED_VARIANTS: readonly string[] = [ORIGINAL, VIDEO, PLAYABLE];

export function isVariantName(name: string): boolean {
  return VARIANT_NAME.test(name);
}

/** Where a variant's bytes live: the admin's originals, or keepsake's derivative cache. */
export type VariantSource = 'media-root' | 'cache';
/** Who may have it: every view, or only views whose grant allows originals. */
export type Audience = 'everyone' | 'originals';

export interface VariantRule {
  readonly name: string;
  readonly source: VariantSource;
  /** The kinds of file it serves (for a derivative, the kinds it is made from). */
  readonly kinds: readonly MediaKind[];
  /** For a derivative, what it is written as (undefined for the media root's files). */
  readonly output: DerivativeOutput | undefined;
  /** Who may fetch it from keepsake. */
  readonly fetch: Audience;
  /**
   * Whose view holds it on disk for a static server. A media-root variant links a whole album
   * folder, so a view that may not read photo originals must not hold one at all.
   */
  readonly onDisk: Audience;
  readonly cacheControl: string;
  /** Range requests are part of playing a video; on images they are a scraper's tool. */
  readonly ranges: boolean;
}

/** How media may be cached: an original may change in place; a derivative's URL changes with its bytes. */
export const CACHE_POLICY = Object.freeze({
  original: 'private, max-age=3600',
  derivative: 'private, max-age=31536000, immutable',
  page: 'no-store',
  asset: 'public, max-age=31536000, immutable',
});

const ORIGINAL_RULE: VariantRule = Object.freeze({
  name: ORIGINAL, source: 'media-root', kinds: ['image', 'video'], output: undefined, fetch: 'originals', onDisk: 'originals', cacheControl: CACHE_POLICY.original, ranges: true,
} as const);

/**
 * A video as recorded holds what the camera wrote (QuickTime atoms carry GPS). Where a playable
 * copy without metadata is made, the recorded file is an original like any other; only where it
 * is not (no ffmpeg) is it what everyone plays, as before videos had copies.
 */
function videoRule(hasPlayableCopies: boolean): VariantRule {
  const fetch: Audience = hasPlayableCopies ? 'originals' : 'everyone';
  return Object.freeze({ name: VIDEO, source: 'media-root', kinds: ['video'], output: undefined, fetch, onDisk: 'originals', cacheControl: CACHE_POLICY.original, ranges: true } as const);
}

/** Of a video, and of a Motion Photo's appended video (hasPlayableCopy says which items have one). */
const PLAYABLE_RULE: VariantRule = Object.freeze({
  name: PLAYABLE, source: 'cache', kinds: ['video', 'image'], output: 'video', fetch: 'everyone', onDisk: 'everyone', cacheControl: CACHE_POLICY.derivative, ranges: true,
} as const);

/** A picture derivative; a video's are made from its poster frame (see hasDerivatives). */
function derivativeRule(name: string): VariantRule {
  if (name === PLAYABLE) return PLAYABLE_RULE;
  return Object.freeze({ name, source: 'cache', kinds: ['image', 'video'], output: 'image', fetch: 'everyone', onDisk: 'everyone', cacheControl: CACHE_POLICY.derivative, ranges: false } as const);
}

/**
 * Whether an answer honours Range, and so says `Accept-Ranges: bytes`: a video's (a recorded
 * video, a playable copy, a Motion Photo's clip) where its rule allows. Never an image's, whatever
 * its rule: the guard refuses Range on images (guard/probing.ts), and a promise it breaks would
 * only invite the request.
 */
export function servesRanges(rule: Pick<VariantRule, 'ranges'>, urlPath: string): boolean {
  return rule.ranges && mediaKindOfPath(urlPath) === 'video';
}

/**
 * Whether derivatives are made of this item: of every photo, and of a video whose picture ffprobe
 * could read (its width is known), from a frame about a tenth of the way in (and its playable
 * copy). An unprobed or unreadable video has none and shows as a placeholder.
 */
export function hasDerivatives(item: ItemShape): boolean {
  return item.type === 'image' || item.width > 0;
}

/** What the contract needs to know of a catalogued item. */
export interface ItemShape {
  readonly type: MediaKind;
  readonly width: number;
  /** A Motion Photo's appended MP4, in bytes. */
  readonly motionBytes?: number | undefined;
}

/** Whether a playable copy is made of this item: a readable video, or the motion of a Motion Photo. */
export function hasPlayableCopy(item: ItemShape): boolean {
  return item.type === 'video' ? item.width > 0 : (item.motionBytes ?? 0) > 0;
}

/**
 * Whether this variant serves this catalogued item: one of its kinds, and for a derivative, an
 * item derivatives are made of (for the playable copy: an item that has one).
 */
export function servesItem(rule: VariantRule, item: ItemShape): boolean {
  if (!rule.kinds.includes(item.type)) return false;
  if (rule.source !== 'cache') return true;
  return rule.output === 'video' ? hasPlayableCopy(item) : hasDerivatives(item);
}

/**
 * Every variant a URL may name, given the derivative variants keepsake makes: the configured
 * presets, and `playable` where ffmpeg makes video copies.
 */
export function variantRules(derivativeVariants: readonly string[]): VariantRule[] {
  return [ORIGINAL_RULE, videoRule(derivativeVariants.includes(PLAYABLE)), ...derivativeVariants.map(derivativeRule)];
}

export function variantRule(name: string, derivativeVariants: readonly string[]): VariantRule | undefined {
  if (name === ORIGINAL) return ORIGINAL_RULE;
  if (name === VIDEO) return videoRule(derivativeVariants.includes(PLAYABLE));
  return derivativeVariants.includes(name) ? derivativeRule(name) : undefined;
}

/** The URL a viewer plays a video from: its playable copy where one is made, else the video as recorded. */
export function playUrlOf(urls: Readonly<Record<string, string>>): string | undefined {
  return urls[PLAYABLE] ?? urls[VIDEO];
}

function reaches(audience: Audience, canDownloadOriginals: boolean): boolean {
  return audience === 'everyone' || canDownloadOriginals;
}

/** Whether a visitor whose grant says `canDownloadOriginals` may fetch this variant. */
export function mayFetch(rule: VariantRule, canDownloadOriginals: boolean): boolean {
  return reaches(rule.fetch, canDownloadOriginals);
}

/**
 * The variants a view holds on disk, for a grant that does or does not allow originals. A
 * media-root variant links a whole album folder, and so covers whatever is dropped into it
 * later: with the publish gate on (`reviewGate`), a sub-folder dropped into a published album
 * would be sent from disk before anyone reviewed it. Such views hold only the cache's variants,
 * and a static server hands originals and videos to keepsake, which knows what waits.
 */
export function viewVariants(canDownloadOriginals: boolean, derivativeVariants: readonly string[], reviewGate: boolean): VariantRule[] {
  return variantRules(derivativeVariants).filter((rule) => reaches(rule.onDisk, canDownloadOriginals) && !(reviewGate && rule.source === 'media-root'));
}

const DERIVATIVE_LEAVES: Readonly<Record<DerivativeOutput, RegExp>> = {
  image: new RegExp(`^${derivativeLeafSource(derivativeExtensions('image'))}$`),
  video: new RegExp(`^${derivativeLeafSource(derivativeExtensions('video'))}$`),
};

/** Whether this variant may serve this file name (by its kind; a derivative by its name's shape and what it writes). */
export function servesFile(rule: VariantRule, fileName: string): boolean {
  if (rule.source === 'cache') return DERIVATIVE_LEAVES[rule.output ?? 'image'].test(fileName);
  const kind = mediaKindOf(fileName);
  return kind !== undefined && rule.kinds.includes(kind);
}

// ── Media URLs ─────────────────────────────────────────────────────────────────────────────

/** `/<token>/<variant>/…`: the start of every media URL. */
export const MEDIA_URL_START = new RegExp(`^/(${TOKEN_SOURCE})/(${VARIANT_SOURCE})/`);

/** A media URL, decoded exactly once. */
export interface MediaUrl {
  readonly token: string;
  readonly variant: string;
  /** The album's path relative to the media root, `/`-separated; '' for the top level. */
  readonly albumPath: string;
  /** The file's name: an original's name, or a derivative's leaf. */
  readonly name: string;
}

/** C0 controls (NUL, line breaks, tabs …), DEL, slashes and backslashes: no URL, log line or web-server pattern carries them whole in a name. */
const UNSERVABLE_CHARACTER = /[\u0000-\u001f\u007f/\\]/;

/** The longest name a file system keeps (ext4, XFS, btrfs, ZFS: 255 bytes). */
export const MAX_NAME_BYTES = 255;
/** The longest original name whose derivatives' names (`<name>.<hash>.<extension>`) still fit in one. */
export const LONGEST_SOURCE_NAME_BYTES = MAX_NAME_BYTES - DERIVATIVE_HASH_LENGTH - 2 - Math.max(...[...derivativeExtensions('image'), ...derivativeExtensions('video')].map((extension) => extension.length));

/** Why the catalogue cannot serve a file by this name, or undefined when it can (the name alone: kind and content are asked elsewhere). */
export function unservableName(name: string): 'unservable-name' | 'name-too-long' | undefined {
  if (UNSERVABLE_CHARACTER.test(name)) return 'unservable-name';
  return Buffer.byteLength(name) > LONGEST_SOURCE_NAME_BYTES ? 'name-too-long' : undefined;
}

/** A folder or file name that is neither empty, hidden (`.`, `..`, dot-files), a holder of control characters, nor a way out of its folder. */
export function isPlainSegment(segment: string): boolean {
  return segment !== '' && !segment.startsWith('.') && !UNSERVABLE_CHARACTER.test(segment);
}

/** One path segment, decoded exactly once; undefined when malformed or not a plain segment once decoded. */
export function decodeSegment(encoded: string): string | undefined {
  let segment: string;
  try {
    segment = decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
  return isPlainSegment(segment) ? segment : undefined;
}

/** Splits an encoded path into decoded segments, or undefined when any segment is not allowed. */
export function decodeSegments(encodedPath: string): string[] | undefined {
  const trimmed = encodedPath.startsWith('/') ? encodedPath.slice(1) : encodedPath;
  if (trimmed === '') return undefined;
  const segments: string[] = [];
  for (const part of trimmed.split('/')) {
    const segment = decodeSegment(part);
    if (segment === undefined) return undefined;
    segments.push(segment);
  }
  return segments;
}

/** True when the path has the shape of a media URL, whatever follows: such a path is never a page. */
export function isMediaPath(path: string): boolean {
  return MEDIA_URL_START.test(path);
}

/** The media URL a path names, or undefined for anything else (including every malformed one). */
export function parseMediaUrl(path: string): MediaUrl | undefined {
  const start = MEDIA_URL_START.exec(path);
  if (start === null) return undefined;
  const segments = decodeSegments(path.slice(start[0].length));
  if (segments === undefined) return undefined;
  const name = segments.pop()!;
  return { token: start[1]!, variant: start[2]!, albumPath: segments.join('/'), name };
}

export function encodePath(...parts: readonly string[]): string {
  return parts
    .filter((part) => part !== '')
    .flatMap((part) => part.split('/'))
    .map(encodeURIComponent)
    .join('/');
}

/** The URL of one file of one variant under a session's token. */
export function mediaUrl(token: string, variant: string, albumPath: string, name: string): string {
  return `/${token}/${encodePath(variant, albumPath, name)}`;
}

/** What the extension of a media URL says it is ('image' for a derivative), for the guard. */
export function mediaKindOfPath(path: string): MediaKind | undefined {
  return mediaKindOf(path.split('?')[0] ?? '');
}

// ── Binding a token to a browser (for a static server) ─────────────────────────────────────

/** The cookie that proves a token is this browser's own; scoped to `Path=/<token>/`. */
export const LINK_COOKIE = 'keepsake_link';

/** What a link cookie binds together; each a string the static server has as a variable or a constant. */
export interface LinkBinding {
  readonly token: string;
  /** The browser's User-Agent, as sent. */
  readonly userAgent: string;
  /** <stateDir>/secrets/link-key. */
  readonly secret: string;
  /** A digest of the user-agent policy the cookie was written under (guard's userAgentPolicyTag). */
  readonly policy: string;
}

/** What is hashed, in this order, each part's bytes one after the other. */
export const LINK_COOKIE_PARTS: readonly (keyof LinkBinding)[] = Object.freeze(['token', 'userAgent', 'secret', 'policy']);

/**
 * The bytes hashed, as text. keepsake fills it with the request's values; the nginx generator
 * with `${keepsake_token}` and `${http_user_agent}` and the constants, and the lighttpd script
 * concatenates LINK_COOKIE_PARTS itself, so all three hash the same bytes.
 */
export function linkCookieMaterial(binding: LinkBinding): string {
  return LINK_COOKIE_PARTS.map((part) => binding[part]).join('');
}

/**
 * The cookie's value: MD5 over token, User-Agent, secret and policy, base64url without padding —
 * exactly what nginx's `secure_link_md5` computes over the same material (the User-Agent as its
 * raw bytes, which Node hands over as latin1). Knowing a URL (and so the token) is not enough to
 * forge it. Binding the User-Agent and the policy means a request nginx finds proven carries the
 * very User-Agent keepsake's guard let in, under the policy in force, when it wrote the cookie:
 * nginx need not run the user-agent expression on it (the costliest check it has), and a cookie
 * copied into another client, or written before the policy changed, proves nothing.
 */
export function linkCookieValue(binding: LinkBinding): string {
  return createHash('md5').update(Buffer.from(linkCookieMaterial(binding), 'latin1')).digest('base64url');
}

/** Where an X-Accel-Redirect points, by where the bytes live (nginx's internal locations). */
export const ACCEL_PREFIXES: Readonly<Record<VariantSource, string>> = Object.freeze({
  'media-root': '/_keepsake/media/',
  cache: '/_keepsake/cache/',
});

// ── Refusals ───────────────────────────────────────────────────────────────────────────────

export const TEXT_TYPE = 'text/plain; charset=utf-8';

/** The body of every refusal, by status, whoever gives it: nothing can be learned by comparing answers. */
export const REFUSAL_BODIES = Object.freeze({
  403: 'Forbidden\n',
  404: 'Not Found\n',
  429: 'Too many requests. Slow down and try again shortly.\n',
  502: 'keepsake is not answering. Try again in a moment.\n',
  503: 'Busy, try again shortly\n',
} as const);
export type RefusalStatus = keyof typeof REFUSAL_BODIES;

/** Retry-After of a 502 or 503 ("busy", "not answering"): keepsake's and a static server's alike. */
export const UNAVAILABLE_RETRY_AFTER_S = 5;

export const NOT_FOUND_BODY = REFUSAL_BODIES[404];
export const FORBIDDEN_BODY = REFUSAL_BODIES[403];

// ── Share links ────────────────────────────────────────────────────────────────────────────

export const SHARE_PATH_PREFIX = '/s/';
/** HMAC-SHA256 in base64url: 43 characters. */
export const SHARE_SIGNATURE_LENGTH = 43;
/** `/s/<payload>.<signature>`, both base64url. */
export const SHARE_PATH_SOURCE = `/s/([A-Za-z0-9_-]+)\\.([A-Za-z0-9_-]{${SHARE_SIGNATURE_LENGTH}})`;

// ── Logs ───────────────────────────────────────────────────────────────────────────────────

/** How much of a token or a share link's signature a log keeps: enough to tell them apart, too little to use. */
export const LOGGED_SECRET_CHARACTERS = 3;

/** A token shortened for logs. */
export function shortToken(token: string): string {
  return `${token.slice(0, LOGGED_SECRET_CHARACTERS)}…`;
}

/**
 * For a server's log of a normalised path (nginx's `$uri`: decoded once, slashes merged, `..`
 * resolved): a token at the start keeps its first letters; a share link the first letters of its
 * signature.
 */
export const LOGGED_TOKEN_SOURCE = `^/([A-Za-z]{${LOGGED_SECRET_CHARACTERS}})[A-Za-z]{${TOKEN_MIN_LENGTH - LOGGED_SECRET_CHARACTERS},${TOKEN_MAX_LENGTH - LOGGED_SECRET_CHARACTERS}}(/.*)?$`;
export const LOGGED_SHARE_SOURCE = `^/s/[^.]*(?:\\.([A-Za-z0-9_-]{0,${LOGGED_SECRET_CHARACTERS}}))?`;

/** A device's enrolment card (`/enrol/<code>`): a secret in the URL too, logged by its first letters. */
export const ENROL_PATH_PREFIX = '/enrol/';
export const LOGGED_ENROL_SOURCE = `^/enrol/([A-Za-z0-9_-]{0,${LOGGED_SECRET_CHARACTERS}})`;

function decodedOrAsIs(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * A request path as keepsake's log writes it, whatever its spelling (`//<token>/…`,
 * `/x/../<token>/…`, a letter percent-encoded): each segment is decoded once, and every segment
 * shaped like a token keeps only its first letters; a share link (`/s/<payload>.<signature>`)
 * keeps only the first letters of its signature. A log line never holds a URL that opens anything.
 */
export function loggablePath(path: string): string {
  const segments = path.split('/').filter((segment) => segment !== '').map(decodedOrAsIs);
  if (segments[0] === 'review') return `/review/${(segments[1] ?? '').slice(0, LOGGED_SECRET_CHARACTERS)}…`;
  if (segments[0] === 'enrol') return `${ENROL_PATH_PREFIX}${(segments[1] ?? '').slice(0, LOGGED_SECRET_CHARACTERS)}…`;
  if (segments[0] === 's') {
    const signature = segments[1]?.includes('.') === true ? segments[1].slice(segments[1].indexOf('.') + 1) : '';
    return `${SHARE_PATH_PREFIX}….${signature.slice(0, LOGGED_SECRET_CHARACTERS)}…`;
  }
  return `/${segments.map((segment) => (isToken(segment) ? shortToken(segment) : segment)).join('/')}`;
}
