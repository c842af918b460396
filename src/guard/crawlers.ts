/**
 * What polite crawlers are told. Impolite ones are the user-agent, hotlink and rate policies'
 * business; these two values are the single source for keepsake and the nginx generator.
 */

/** Sent on every response, errors and 404s included. */
export const ROBOTS_TAG = 'noindex, nofollow, noimageindex';

/** Served at /robots.txt: a private gallery has nothing to index. */
export const ROBOTS_TXT = 'User-agent: *\nDisallow: /\n';
