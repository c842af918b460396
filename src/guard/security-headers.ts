import { ROBOTS_TAG } from './crawlers.js';

/*
 * Security headers as data: src/http passes HELMET_OPTIONS to helmet, and the nginx generator
 * writes SECURITY_HEADERS as `add_header` lines, so both send the same values. (Only src/http
 * may import helmet; these objects are shaped for it and type-checked where they are used.)
 */

/** Everything from our own origin only; nothing may frame us; no plugins; forms post home. */
export const CONTENT_SECURITY_POLICY_DIRECTIVES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  // data: and blob: for the placeholders and the viewer's in-memory images.
  'img-src': ["'self'", 'data:', 'blob:'],
  'media-src': ["'self'"],
  'connect-src': ["'self'"],
  'font-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
});

/** The browser features a photo gallery never needs, switched off for our pages and anything they embed. */
export const PERMISSIONS_POLICY = 'camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()';

/** One year: long enough for HSTS to mean something, the usual value for sites that stay on TLS. */
export const HSTS_MAX_AGE_SECONDS = 31_536_000;

export const HELMET_OPTIONS = Object.freeze({
  contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY_DIRECTIVES },
  xFrameOptions: { action: 'deny' },
  referrerPolicy: { policy: 'same-origin' },
  // Set per request with hstsHeader(): only the http layer knows whether this request came over
  // TLS, directly or through a trusted proxy. HSTS over plain HTTP would be ignored anyway.
  strictTransportSecurity: false,
  crossOriginResourcePolicy: { policy: 'same-origin' },
  xContentTypeOptions: true,
} as const);

export function contentSecurityPolicyHeader(directives = CONTENT_SECURITY_POLICY_DIRECTIVES): string {
  return Object.entries(directives)
    .map(([name, values]) => [name, ...values].join(' '))
    .join('; ');
}

/** The Strict-Transport-Security value for a response, or undefined when it is not over TLS. */
export function hstsHeader(isSecure: boolean, maxAgeSeconds = HSTS_MAX_AGE_SECONDS): string | undefined {
  return isSecure ? `max-age=${maxAgeSeconds}; includeSubDomains` : undefined;
}

/**
 * The headers that matter, as name → value, for servers that are not keepsake (the nginx
 * generator). helmet adds a few more harmless defaults on keepsake's own responses.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': contentSecurityPolicyHeader(),
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Permissions-Policy': PERMISSIONS_POLICY,
  'X-Robots-Tag': ROBOTS_TAG,
});
