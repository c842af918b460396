import { randomInt } from 'node:crypto';
import type { GuardConfig } from '../guard/index.js';
import { NOT_FOUND_BODY, ROBOTS_TAG } from './rules.js';
import { createSiteClient, headerOf, type SiteClient, type SiteResponse } from './site-client.js';

/*
 * `keepsake doctor --url`: a running setup (nginx or another server in front of keepsake) seen
 * from the outside, the way a stranger, a scraper and a family member see it. Every finding
 * says what was asked, what came back and, when it is wrong, what to change.
 */

export interface SiteCheckOptions {
  /** The site as visitors reach it, e.g. http://127.0.0.1:8081/. */
  readonly url: string;
  /** A key's password: enables the checks that need a session (media, HEAD/Range, logout). */
  readonly password?: string | undefined;
  /** KEEPSAKE_PUBLIC_URL, sent as the login's Origin when set. */
  readonly publicUrl?: string | undefined;
  readonly guard: GuardConfig;
  /** Paths that must never answer 200: the state dir, database, secrets and media root by name. */
  readonly privatePaths: readonly string[];
}

export interface SiteFinding {
  readonly ok: boolean;
  readonly what: string;
  readonly fix?: string;
}

const REGENERATE = 'regenerate the configuration with `keepsake nginx-config` and reload the server';

function finding(ok: boolean, what: string, fix: string): SiteFinding {
  return ok ? { ok, what } : { ok, what, fix };
}

function randomToken(): string {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  return Array.from({ length: 14 }, () => letters[randomInt(letters.length)]).join('');
}

function isUniformNotFound(response: SiteResponse): boolean {
  return response.status === 404 && response.body.toString('utf8') === NOT_FOUND_BODY;
}

function isListing(response: SiteResponse): boolean {
  return response.status === 200 && /Index of|<a href=/i.test(response.body.toString('utf8'));
}

function checkHeaders(label: string, response: SiteResponse): SiteFinding {
  const robots = headerOf(response, 'x-robots-tag');
  const missing = [
    robots.includes('noindex') ? undefined : 'X-Robots-Tag',
    headerOf(response, 'x-content-type-options') === 'nosniff' ? undefined : 'X-Content-Type-Options: nosniff',
    /frame-ancestors 'none'/.test(headerOf(response, 'content-security-policy')) ? undefined : "Content-Security-Policy with frame-ancestors 'none'",
    headerOf(response, 'referrer-policy') === '' ? 'Referrer-Policy' : undefined,
  ].filter((name) => name !== undefined);
  const doubled = robots.split('noindex').length > 2;
  const problems = [...(missing.length > 0 ? [`missing ${missing.join(', ')}`] : []), ...(doubled ? ['X-Robots-Tag sent twice'] : [])];
  return finding(problems.length === 0, `${label} carries the privacy and security headers${problems.length > 0 ? `: ${problems.join('; ')}` : ''}`, `add the headers with \`add_header … always\` and hide keepsake's copies; ${REGENERATE}`);
}

async function anonymousChecks(client: SiteClient, options: SiteCheckOptions): Promise<SiteFinding[]> {
  const robots = await client.request('/robots.txt');
  const page = await client.request('/');
  const deadUrl = `/${randomToken()}/thumb/Album/photo.0123456789abcdef.webp`;
  const dead = await client.request(deadUrl);
  const listing = await client.request(`/${randomToken()}/`);
  const privateAnswers = await Promise.all(options.privatePaths.map(async (path) => [path, await client.request(path)] as const));
  const reachable = privateAnswers.filter(([, response]) => response.status === 200 || response.status === 206).map(([path]) => path);
  const server = headerOf(page, 'server');
  return [
    finding(robots.status === 200 && robots.body.toString('utf8').includes('Disallow: /'), `/robots.txt answers ${robots.status} and disallows everything`, `serve keepsake's robots.txt; ${REGENERATE}`),
    checkHeaders('the login page', page),
    checkHeaders('a 404', dead),
    finding(isUniformNotFound(dead), `an unknown token is dead: ${dead.status} with keepsake's uniform body`, `pass /<token>/… misses to keepsake and answer refusals with 404 "${NOT_FOUND_BODY.trim()}"; ${REGENERATE}`),
    finding(!isListing(listing) && listing.status !== 200, `no directory listing under a token (${listing.status})`, `set \`autoindex off\`; ${REGENERATE}`),
    finding(
      reachable.length === 0,
      reachable.length === 0 ? `the media root, state dir, database and secrets are not reachable (${privateAnswers.length} paths tried)` : `reachable from outside: ${reachable.join(', ')}`,
      'serve only the web root (never the state dir or the media root) and keep X-Accel locations `internal`',
    ),
    finding(!/\d/.test(server), `the Server header shows no version ("${server}")`, 'set `server_tokens off` (nginx) or `ServerTokens Prod` (Apache)'),
  ];
}

async function login(client: SiteClient, options: SiteCheckOptions, password: string): Promise<SiteResponse> {
  return client.request('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: options.publicUrl ?? client.base.origin, accept: 'text/html' },
    body: new URLSearchParams({ password }).toString(),
  });
}

interface AlbumPage {
  readonly albums?: readonly { readonly path: string }[];
  readonly items?: readonly { readonly type: string; readonly urls: Record<string, string | undefined> }[];
}

/** The first image the session may see, by walking albums (a bounded number of requests). */
async function findImageUrl(client: SiteClient): Promise<string | undefined> {
  const pending = ['/api/albums'];
  for (let asked = 0; asked < 20 && pending.length > 0; asked += 1) {
    const response = await client.request(pending.shift()!, { headers: { accept: 'application/json' } });
    if (response.status !== 200) return undefined;
    const page = JSON.parse(response.body.toString('utf8')) as AlbumPage;
    const image = page.items?.find((item) => item.type === 'image');
    const url = image?.urls['thumb'] ?? image?.urls['small'];
    if (url !== undefined) return url;
    for (const album of page.albums ?? []) pending.push(`/api/albums/${album.path.split('/').map(encodeURIComponent).join('/')}`);
  }
  return undefined;
}

async function mediaChecks(client: SiteClient, options: SiteCheckOptions, imageUrl: string): Promise<SiteFinding[]> {
  const { guard } = options;
  const [, token = '', variant = '', album = ''] = imageUrl.split('/');
  const image = await client.request(imageUrl);
  const stranger = await client.request(imageUrl, { withCookies: false });
  const head = await client.request(imageUrl, { method: 'HEAD' });
  const range = await client.request(imageUrl, { headers: { range: 'bytes=0-99' } });
  const hotlink = await client.request(imageUrl, { headers: { 'sec-fetch-site': 'cross-site' } });
  const scraper = await client.request(imageUrl, { headers: { 'user-agent': 'curl/8.5.0' } });
  const traversals = [`/${token}/${variant}/${album}/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd`, `/${token}/${variant}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd`];
  const escaped = (await Promise.all(traversals.map((path) => client.request(path)))).filter((response) => response.status === 200 || response.body.includes('root:'));
  const listings = (await Promise.all([`/${token}/`, `/${token}/${variant}/`, `/${token}/${variant}/${album}/`].map((path) => client.request(path)))).filter(isListing);
  const refused = (response: SiteResponse) => response.status >= 400 && response.status < 500;
  return [
    finding(image.status === 200 && headerOf(image, 'x-robots-tag') === ROBOTS_TAG, `a photo loads through the session's token (${image.status}) with X-Robots-Tag`, `check that /<token>/ is served from the web root (or passed to keepsake); ${REGENERATE}`),
    finding(isUniformNotFound(stranger), `the same URL without the session's cookies is a uniform 404 (${stranger.status})`, `check the keepsake_link cookie (secure_link) before serving from disk; ${REGENERATE}`),
    finding(!guard.probing.enabled || refused(head), `HEAD on an image is refused (${head.status})`, `refuse HEAD on images; ${REGENERATE}`),
    finding(!guard.probing.enabled || refused(range), `Range on an image is refused (${range.status})`, `refuse Range and Request-Range on images; ${REGENERATE}`),
    finding(!guard.hotlink.enabled || refused(hotlink), `an image asked for by another site (Sec-Fetch-Site: cross-site) is refused (${hotlink.status})`, `apply the hotlink rule; ${REGENERATE}`),
    finding(!guard.userAgents.enabled || refused(scraper), `an image asked for by curl is refused (${scraper.status})`, `apply the blocked user agents; ${REGENERATE}`),
    finding(escaped.length === 0, 'encoded ../ under a token leads nowhere', 'do not decode paths twice; serve only through the token link'),
    finding(listings.length === 0, 'no directory listing under a live token', `set \`autoindex off\`; ${REGENERATE}`),
  ];
}

async function sessionChecks(client: SiteClient, options: SiteCheckOptions, password: string): Promise<SiteFinding[]> {
  const answer = await login(client, options, password);
  if (answer.status !== 303) return [finding(false, `logging in through the site answered ${answer.status}, not 303`, 'check the password and that /login reaches keepsake with X-Forwarded-Host/Proto from a trusted proxy (KEEPSAKE_TRUST_PROXY)')];
  const findings = [finding(client.cookies.has('keepsake_link'), 'logging in sets the keepsake_link cookie nginx checks', 'update keepsake: this version does not bind tokens for a static server')];
  const imageUrl = await findImageUrl(client);
  if (imageUrl === undefined) return [...findings, finding(false, 'no photo visible to this key, so media checks were skipped', 'use the password of a key that sees at least one photo')];
  findings.push(...(await mediaChecks(client, options, imageUrl)));
  const kept = new Map(client.cookies);
  const logout = await client.request('/logout', { method: 'POST', headers: { origin: options.publicUrl ?? client.base.origin } });
  const after = await client.request(imageUrl, { headers: { cookie: [...kept].map(([name, value]) => `${name}=${value}`).join('; ') } });
  findings.push(finding(logout.status === 303 && isUniformNotFound(after), `after logout the token is dead even with the old cookies (${after.status})`, 'make sure nothing caches open files (open_file_cache off) and misses go to keepsake'));
  return findings;
}

/** Runs every outside check that the options allow; never throws for a bad answer, only for no answer. */
export async function checkSite(options: SiteCheckOptions): Promise<SiteFinding[]> {
  const client = createSiteClient(new URL(options.url));
  const findings = await anonymousChecks(client, options);
  if (options.password === undefined) {
    return [...findings, { ok: true, what: 'media, HEAD/Range, hotlink and logout checks skipped: pass --password of a key' }];
  }
  return [...findings, ...(await sessionChecks(client, options, options.password))];
}
