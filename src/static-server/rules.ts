import { DEFAULT_VARIANTS } from '../derivatives/index.js';
import { DEFAULT_GUARD_CONFIG, ROBOTS_TAG, ROBOTS_TXT, SECURITY_HEADERS, blockedUserAgentPatterns, hstsHeader, type GuardConfig } from '../guard/index.js';
import { DEFAULT_IGNORED_NAMES } from '../library/index.js';
import {
  DERIVATIVE_FORMATS,
  derivativeExtensions,
  derivativeLeafSource,
  extensionsOf,
  MEDIA_FORMATS,
  TOKEN_SOURCE,
  variantRules,
  type DerivativeFormat,
  type MediaKind,
  type VariantRule,
} from '../media-contract.js';

/*
 * The rules every generated configuration enforces, as data drawn from the same sources keepsake
 * itself uses (the media contract's URL grammar, variants and refusals, the guard's lists and
 * headers), so a static server and keepsake refuse the same requests. Each generator only
 * translates these into its syntax.
 */

/** What a generator needs to know; the CLI fills it from the running configuration. */
export interface StaticServerOptions {
  /** Absolute path of the web root (token links and robots.txt). */
  readonly webRoot: string;
  /** Absolute, real path of the media root (for X-Accel-Redirect's internal location). */
  readonly mediaRoot: string;
  /** Absolute, real path of the derivative cache. */
  readonly cacheDir: string;
  /** Where keepsake writes its refusal bodies as files (`<stateDir>/refusals`), for lighttpd and Apache. */
  readonly refusalsDir?: string | undefined;
  /** Where the server writes its access log (each server has a Debian default). */
  readonly accessLog?: string | undefined;
  /** lighttpd only: where keepsake writes the mod_magnet script (`<stateDir>/lighttpd/keepsake-link.lua`). */
  readonly linkScript?: string | undefined;
  /** The secret behind the `keepsake_link` cookie (`<stateDir>/secrets/link-key`). */
  readonly linkSecret: string;
  /** Where keepsake listens, `ADDR:PORT`. */
  readonly upstream: string;
  /** `PORT` or `ADDR:PORT`; default 80, or 443 with TLS. */
  readonly listen?: string | undefined;
  readonly serverName?: string | undefined;
  readonly tls?: { readonly certificate: string; readonly key: string } | undefined;
  /** keepsake's KEEPSAKE_PUBLIC_URL: the origin the hotlink rule compares Referers with. */
  readonly publicUrl?: string | undefined;
  readonly guard?: GuardConfig | undefined;
  /** nginx only: proxy every request and let keepsake answer media with X-Accel-Redirect. */
  readonly accel?: boolean | undefined;
  /** The derivative variants keepsake makes: the configured presets (default thumb, small, medium, large), and `playable` where ffmpeg is. */
  readonly derivativeVariants?: readonly string[] | undefined;
  /** The format derivatives are written in (KEEPSAKE_IMAGE_FORMAT; default webp). */
  readonly derivativeFormat?: DerivativeFormat | undefined;
  /** Names that are never an album or a photo (KEEPSAKE_IGNORED_NAMES; default the NAS and OS litter). */
  readonly ignoredNames?: readonly string[] | undefined;
}

/** The options with every field present and checked. */
export interface StaticServerPlan {
  readonly webRoot: string;
  readonly mediaRoot: string;
  readonly cacheDir: string;
  readonly refusalsDir: string | undefined;
  readonly linkScript: string | undefined;
  readonly accessLog: string | undefined;
  readonly linkSecret: string;
  readonly upstream: { readonly host: string; readonly port: number };
  readonly listen: { readonly host: string | undefined; readonly port: number };
  readonly serverName: string;
  readonly tls: { readonly certificate: string; readonly key: string } | undefined;
  /** Our own origin, when configured; else each server derives it from the request. */
  readonly publicOrigin: string | undefined;
  readonly guard: GuardConfig;
  readonly accel: boolean;
  /** Every variant a media URL may name, with what it serves and from where. */
  readonly variants: readonly VariantRule[];
  readonly derivativeFormat: DerivativeFormat;
  readonly ignoredNames: readonly string[];
}

export interface MediaExtension {
  /** Without the dot, lower case. */
  readonly extension: string;
  readonly type: MediaKind;
  readonly mime: string;
}

/** Every extension keepsake serves (the media contract's); anything else under a token is refused. */
export function mediaExtensions(): readonly MediaExtension[] {
  return Object.entries(MEDIA_FORMATS).map(([dotted, format]) => ({ extension: dotted.slice(1), type: format.kind, mime: format.mime }));
}

/**
 * The path of one variant's media URLs, as a regular expression with named groups for the
 * token, the variant, the top album folder and the extension: an original or a video names a
 * file of the kinds the variant serves; a derivative names its exact cache file.
 */
export function variantPathSource(rules: readonly VariantRule[], format: DerivativeFormat, names: { token: string; variant: string; album: string; extension: string }): string {
  const variants = rules.map((rule) => rule.name).join('|');
  const start = `^/(?<${names.token}>${TOKEN_SOURCE})/(?<${names.variant}>${variants})/(?<${names.album}>[^/]+)/`;
  if (rules.every((rule) => rule.source === 'cache')) {
    const extensions = [...new Set(rules.flatMap((rule) => derivativeExtensions(rule.output ?? 'image', format)))];
    return `${start}${derivativeLeafSource(extensions, names.extension)}$`;
  }
  const kinds = [...new Set(rules.flatMap((rule) => rule.kinds))];
  return `${start}.+\\.(?<${names.extension}>(?i:${kinds.flatMap(extensionsOf).join('|')}))$`;
}

/**
 * The path of picture derivative URLs (all such variants in one pattern), or undefined when none
 * is configured. lighttpd and Apache send only these from disk; video copies (Range requests)
 * go to keepsake there, like the media root's files.
 */
export function derivativePathSource(plan: Pick<StaticServerPlan, 'variants' | 'derivativeFormat'>): string | undefined {
  const pictures = plan.variants.filter((rule) => rule.source === 'cache' && rule.output === 'image');
  if (pictures.length === 0) return undefined;
  return variantPathSource(pictures, plan.derivativeFormat, { token: 'token', variant: 'variant', album: 'album', extension: 'extension' });
}

/**
 * The variants grouped as a server serves them: each media-root variant alone, the picture
 * derivatives together, the video copies together (their own extension, and Range).
 */
export function variantGroups(plan: Pick<StaticServerPlan, 'variants'>): VariantRule[][] {
  const fromMediaRoot = plan.variants.filter((rule) => rule.source === 'media-root').map((rule) => [rule]);
  const derivatives = (['image', 'video'] as const).map((output) => plan.variants.filter((rule) => rule.source === 'cache' && rule.output === output));
  return [...fromMediaRoot, ...derivatives.filter((group) => group.length > 0)];
}

export { CACHE_POLICY, FORBIDDEN_BODY, NOT_FOUND_BODY, REFUSAL_BODIES, TEXT_TYPE, TOKEN_SOURCE } from '../media-contract.js';
export { ROBOTS_TAG, ROBOTS_TXT };

/** The headers every answer carries, as name → value; HSTS only when the server speaks TLS. */
export function securityHeaders(plan: Pick<StaticServerPlan, 'tls'>): readonly (readonly [string, string])[] {
  const headers = Object.entries(SECURITY_HEADERS);
  const hsts = hstsHeader(plan.tls !== undefined);
  return hsts === undefined ? headers : [...headers, ['Strict-Transport-Security', hsts]];
}

/** The block list keepsake applies: the shipped patterns and the operator's additions. */
/** The Sec-Fetch-Site values the hotlink rule lets through ('' is a browser that sends none). */
export function allowedFetchSites(guard: GuardConfig): readonly string[] {
  return ['', 'same-origin', ...(guard.hotlink.allowTypedUrl ? ['none'] : [])];
}

export function blockedAgentPatterns(guard: GuardConfig): readonly string[] {
  return [...blockedUserAgentPatterns(), ...guard.userAgents.block];
}

/** One case-insensitive alternation, the way keepsake compiles its list. */
export function alternation(sources: readonly string[]): string {
  return sources.map((source) => `(?:${source})`).join('|');
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function invalid(name: string, expected: string, received: unknown): TypeError {
  return new TypeError(`${name}: expected ${expected}, received ${JSON.stringify(received)}`);
}

/**
 * Paths go into configuration files inside quotes. nginx reads `$` as a variable everywhere
 * and none of the three servers has one escape that works in every directive, so such
 * characters are refused rather than escaped.
 */
function checkPath(name: string, value: string): string {
  if (!value.startsWith('/') || /["'$\\\0-\x1f\x7f{};]/.test(value)) {
    throw invalid(name, 'an absolute path without quotes, $, \\, {, }, ; or control characters', value);
  }
  return value.replace(/\/+$/, '') || '/';
}

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/;

function parsePort(name: string, text: string, original: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(name, 'a port from 1 to 65535', original);
  return port;
}

/** `ADDR:PORT` (`[::1]:8080` for IPv6), or just `PORT` when `portOnly` is allowed. */
export function parseHostPort(name: string, value: string, portOnly: boolean): { host: string | undefined; port: number } {
  if (portOnly && /^\d{1,5}$/.test(value)) return { host: undefined, port: parsePort(name, value, value) };
  const match = HOST_PORT.exec(value);
  if (match === null) throw invalid(name, portOnly ? 'PORT or ADDR:PORT (e.g. 127.0.0.1:8081, [::1]:8081)' : 'ADDR:PORT (e.g. 127.0.0.1:8080)', value);
  const host = match[1] !== undefined ? `[${match[1]}]` : match[2]!;
  return { host, port: parsePort(name, match[3]!, value) };
}

function checkFormat(format: DerivativeFormat): DerivativeFormat {
  if (!Object.hasOwn(DERIVATIVE_FORMATS, format)) throw invalid('derivativeFormat', Object.keys(DERIVATIVE_FORMATS).join(', '), format);
  return format;
}

/** Checks the options once and fills in every default, so the generators only translate. */
export function planStaticServer(options: StaticServerOptions): StaticServerPlan {
  if (!/^[A-Za-z0-9_-]{16,}$/.test(options.linkSecret)) {
    throw invalid('linkSecret', 'the base64url text of <stateDir>/secrets/link-key (at least 16 characters)', '<hidden>');
  }
  const tls = options.tls === undefined ? undefined : { certificate: checkPath('tls.certificate', options.tls.certificate), key: checkPath('tls.key', options.tls.key) };
  const publicOrigin = options.publicUrl === undefined ? undefined : new URL(options.publicUrl).origin;
  const serverName = options.serverName ?? (publicOrigin === undefined ? '_' : new URL(publicOrigin).hostname);
  if (!/^[A-Za-z0-9._*~-]+$/.test(serverName)) throw invalid('serverName', 'a host name such as photos.example.org (or _ for any)', serverName);
  const upstream = parseHostPort('upstream', options.upstream, false);
  return {
    webRoot: checkPath('webRoot', options.webRoot),
    mediaRoot: checkPath('mediaRoot', options.mediaRoot),
    cacheDir: checkPath('cacheDir', options.cacheDir),
    refusalsDir: options.refusalsDir === undefined ? undefined : checkPath('refusalsDir', options.refusalsDir),
    linkScript: options.linkScript === undefined ? undefined : checkPath('linkScript', options.linkScript),
    accessLog: options.accessLog === undefined ? undefined : checkPath('accessLog', options.accessLog),
    linkSecret: options.linkSecret,
    upstream: { host: upstream.host ?? '127.0.0.1', port: upstream.port },
    listen: parseHostPort('listen', options.listen ?? (tls === undefined ? '80' : '443'), true),
    serverName,
    tls,
    publicOrigin,
    guard: options.guard ?? DEFAULT_GUARD_CONFIG,
    accel: options.accel ?? false,
    variants: variantRules(options.derivativeVariants ?? DEFAULT_VARIANTS),
    derivativeFormat: checkFormat(options.derivativeFormat ?? 'webp'),
    ignoredNames: options.ignoredNames ?? DEFAULT_IGNORED_NAMES,
  };
}

/** The first lines of every generated file: where it came from and what must match it. */
export function preamble(server: string, plan: StaticServerPlan): string[] {
  return [
    `keepsake ${server} configuration, generated by \`keepsake nginx-config --server ${server}\`.`,
    'Regenerate it after changing keepsake\'s folders, guard settings or the link secret;',
    'the values below are copied from the running configuration, not looked up at run time.',
    '',
    `keepsake must run with KEEPSAKE_TRUST_PROXY=<this server's address> (e.g. 127.0.0.1) so it`,
    'believes the X-Forwarded-* headers this server sends, and no one else\'s.',
    `Upstream (keepsake): ${plan.upstream.host}:${plan.upstream.port}`,
  ];
}
