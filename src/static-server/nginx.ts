import { userAgentPolicyTag } from '../guard/index.js';
import { ignoredNamesSource } from '../library/index.js';
import { ACCEL_PREFIXES, ENROL_PATH_PREFIX, LINK_COOKIE, linkCookieMaterial, LOGGED_ENROL_SOURCE, LOGGED_SHARE_SOURCE, LOGGED_TOKEN_SOURCE, SHARE_PATH_PREFIX, UNAVAILABLE_RETRY_AFTER_S, type VariantRule } from '../media-contract.js';
import { comment, quote, quoteWithNewlines, renderFile, type Lines } from './config-text.js';
import { MEDIA_VERDICT, nginxGuardMaps } from './nginx-guard.js';
import {
  mediaExtensions,
  planStaticServer,
  preamble,
  REFUSAL_BODIES,
  ROBOTS_TXT,
  securityHeaders,
  TEXT_TYPE,
  TOKEN_SOURCE,
  variantGroups,
  variantPathSource,
  type StaticServerOptions,
  type StaticServerPlan,
} from './rules.js';

/*
 * nginx in front of keepsake. Static mode: nginx sends /<token>/… straight from the web root,
 * following the token link and the view's album link, once the keepsake_link cookie proves the
 * token (secure_link), and refuses what keepsake's guard refuses (maps in nginx-guard.ts);
 * misses and everything else go to keepsake. --accel mode: nginx proxies every request and only
 * sends the bytes keepsake points at with X-Accel-Redirect.
 */

const UPSTREAM = 'keepsake_upstream';

function headerLines(plan: StaticServerPlan): string[] {
  return securityHeaders(plan).map(([name, value]) => `add_header ${name} ${quote(value)} always;`);
}

/**
 * nginx's own refusals are handed over under codes of their own to the named locations below,
 * which answer as keepsake does: its body, as text, with no Cache-Control. A `return` with a body
 * in a media location would take the URL's type (image/webp) and that location's year-long
 * `immutable` caching.
 */
const REFUSAL_HANDOVER = { 403: 463, 404: 460 } as const;

/** In a location that answers a refusal itself: no media type from the URL's extension. */
const REFUSAL_TYPE_LINES: readonly string[] = ['types { }', `default_type ${quote(TEXT_TYPE)};`];

function mediaTypes(): Lines {
  const byMime = new Map<string, string[]>();
  for (const { extension, mime } of mediaExtensions()) byMime.set(mime, [...(byMime.get(mime) ?? []), extension]);
  return ['types {', [...byMime].map(([mime, extensions]) => `${mime}  ${extensions.join(' ')};`), '}'];
}

function accessLog(): Lines {
  return [
    ...comment(
      'URLs hold session tokens and share links, both secrets: the log keeps only their first',
      'letters, as keepsake\'s own log does (src/media-contract.ts). It logs $uri, the path as nginx',
      'served it (decoded once, slashes merged, `..` resolved), so no other spelling of a token',
      'slips through; the query string is left out. escape=json keeps the … as it is.',
    ),
    'map $uri $keepsake_logged_uri {',
    [
      'default  $uri;',
      `${quote(`~${LOGGED_SHARE_SOURCE}`)}  ${quote(`${SHARE_PATH_PREFIX}….$1…`)};`,
      `${quote(`~${LOGGED_ENROL_SOURCE}`)}  ${quote(`${ENROL_PATH_PREFIX}$1…`)};`,
      `${quote(`~${LOGGED_TOKEN_SOURCE}`)}  ${quote('/$1…$2')};`,
    ],
    '}',
    'log_format keepsake_private escape=json \'$remote_addr [$time_local] "$request_method $keepsake_logged_uri $server_protocol" \'',
    ['\'$status $body_bytes_sent "$http_user_agent" $request_time\';'],
  ];
}

/** Where nginx's own errors go: the same bodies keepsake sends. */
function errorPages(): string[] {
  return ['error_page 404 @keepsake_not_found;', 'error_page 429 @keepsake_too_many;', 'error_page 502 503 504 @keepsake_unavailable;'];
}

function proxyDirectives(plan: StaticServerPlan): string[] {
  return [
    `proxy_pass http://${UPSTREAM};`,
    'proxy_http_version 1.1;',
    'proxy_set_header Connection "";',
    'proxy_set_header Host $host;',
    // $remote_addr, not $proxy_add_x_forwarded_for: nginx is the edge, so whatever the client
    // wrote into X-Forwarded-For must not reach keepsake, which takes the first address.
    'proxy_set_header X-Forwarded-For $remote_addr;',
    'proxy_set_header X-Forwarded-Proto $scheme;',
    'proxy_set_header X-Forwarded-Host $http_host;',
    'proxy_set_header Forwarded "";',
    'proxy_redirect off;',
    // nginx adds these headers to every answer; keepsake's copies would make each appear twice.
    ...securityHeaders(plan).map(([name]) => `proxy_hide_header ${name};`),
  ];
}

const GROUPS = { token: 'keepsake_token', variant: 'keepsake_variant', album: 'keepsake_album', extension: 'keepsake_extension' } as const;

function describeGroup(group: readonly VariantRule[]): string {
  const [first] = group;
  if (first?.output === 'video') return `/<token>/${first.name}/<album>/…/<name>.<hash>.mp4: web-playable video copies, from the cache (Range allowed)`;
  if (first?.source === 'cache') return `/<token>/<${group.map((rule) => rule.name).join('|')}>/<album>/…/<name>.<hash>.<format>: derivatives, from the cache`;
  return `/<token>/${first?.name}/<album>/…/<file>: ${first?.kinds.join(' and ')} files of the media root, in views that hold them`;
}

/**
 * One location per group of variants (src/media-contract.ts): each accepts only the kinds of
 * file its variants serve, so `video/` never sends a photo and a derivative URL names only its
 * exact cache file.
 */
function mediaLocation(plan: StaticServerPlan, group: readonly VariantRule[]): Lines {
  const pattern = variantPathSource(group, plan.derivativeFormat, GROUPS);
  const rates = plan.guard.rates;
  return [
    ...comment(describeGroup(group)),
    `location ~ ${quote(pattern)} {`,
    [
      `root ${quote(plan.webRoot)};`,
      ...comment(
        'Follow the token link and the view\'s album link, nothing below: a link planted in the media',
        'root (to /etc, or to an album this key may not see) is refused and the request goes to',
        'keepsake, which resolves it and answers 404. Albums granted below a real folder of the view',
        '(a key with Kids/*) are refused here too and served by keepsake instead.',
      ),
      'disable_symlinks on from=$document_root/$keepsake_token/$keepsake_variant/$keepsake_album;',
      '# A cached descriptor would outlive a removed link: logout and expiry must take effect at once.',
      'open_file_cache off;',
      ...(group.some((rule) => rule.ranges) ? [] : ['# No Range on these (media-contract.ts): nor an Accept-Ranges that promises it.', 'max_ranges 0;']),
      ...comment(
        'Refusals in keepsake\'s order: who and how (403), then whose token (404); what the cookie cannot',
        `settle goes to keepsake (418, ${REFUSAL_HANDOVER[403]} and ${REFUSAL_HANDOVER[404]} are only hand-overs). An \`if\` holding only \`return\` is the use of`,
        '`if` in a location that nginx documents as safe; a `return` with a body is sent as it is.',
      ),
      `if ($${MEDIA_VERDICT} = 403) { return ${REFUSAL_HANDOVER[403]}; }`,
      `if ($${MEDIA_VERDICT} = 404) { return ${REFUSAL_HANDOVER[404]}; }`,
      `if ($${MEDIA_VERDICT} = keepsake) { return 418; }`,
      ...(rates.enabled
        ? [
            '# guard.rates: keepsake\'s media budgets, for the media nginx sends without asking keepsake.',
            `limit_req zone=keepsake_media_by_session burst=${rates.perSession.burst} nodelay;`,
            `limit_req zone=keepsake_media_by_address burst=${rates.perAddress.burst} nodelay;`,
          ]
        : []),
      '# Any add_header here replaces the server\'s, so the security headers are repeated.',
      `add_header Cache-Control ${quote(group[0]!.cacheControl)} always;`,
      ...headerLines(plan),
      ...comment(
        'A derivative not made yet (404), anything nginx may not follow or read (403), a folder where a',
        'file was asked for (301): keepsake decides and answers. This in place of try_files, which would',
        'walk the path (and its links) once more on every request. error_page here replaces the',
        'server\'s, so those are repeated.',
      ),
      ...errorPages().filter((line) => !line.startsWith('error_page 404 ')),
      'error_page 301 403 404 418 = @keepsake;',
      `error_page ${REFUSAL_HANDOVER[403]} = @keepsake_forbidden;`,
      `error_page ${REFUSAL_HANDOVER[404]} = @keepsake_not_found;`,
      ...comment(
        'A miss handed to a keepsake that is down: its 502 goes on to @keepsake_unavailable, not nginx\'s',
        'own page. One more step only: the named locations answer with `return` and a body.',
      ),
      'recursive_error_pages on;',
    ],
    '}',
  ];
}

function tokenLocations(plan: StaticServerPlan): Lines {
  if (plan.accel) {
    return [...comment('--accel: keepsake checks every media request and answers with X-Accel-Redirect.')];
  }
  return [
    ...comment('Everything under a token. Nested locations are tried in order; anything else is 404.'),
    `location ~ ${quote(`^/${TOKEN_SOURCE}/`)} {`,
    [
      ...comment('The token proof, read by the media locations below (inherited): see $keepsake_link_proven.'),
      `secure_link $cookie_${LINK_COOKIE};`,
      `secure_link_md5 ${quote(linkCookieMaterial({ token: '${keepsake_token}', userAgent: '${http_user_agent}', secret: plan.linkSecret, policy: userAgentPolicyTag(plan.guard.userAgents) }))};`,
      '',
      ...comment('Hidden files and folders (and `.`/`..` that survived decoding), and backslashes.'),
      `location ~ ${quote('/\\.|\\\\')} { ${REFUSAL_TYPE_LINES.join(' ')} return 404 ${quoteWithNewlines(REFUSAL_BODIES[404])}; }`,
      ...comment('Names that are never an album or a photo (KEEPSAKE_IGNORED_NAMES: a NAS\'s recycle bin holds deleted photos).'),
      `location ~* ${quote(`/${ignoredNamesSource(plan.ignoredNames)}(?:/|$)`)} { ${REFUSAL_TYPE_LINES.join(' ')} return 404 ${quoteWithNewlines(REFUSAL_BODIES[404])}; }`,
      '',
      ...variantGroups(plan).flatMap((group) => [...mediaLocation(plan, group), '']),
      `error_page ${REFUSAL_HANDOVER[404]} = @keepsake_not_found;`,
      `return ${REFUSAL_HANDOVER[404]};`,
    ],
    '}',
  ];
}

function accelLocations(plan: StaticServerPlan): Lines {
  return [
    ...comment(
      'X-Accel-Redirect targets (keepsake with KEEPSAKE_ACCEL=nginx): keepsake has checked the session,',
      'the grant and the real path; nginx only sends the bytes. `internal`: unreachable from outside.',
    ),
    `location ^~ ${ACCEL_PREFIXES['media-root']} {`,
    ['internal;', `alias ${quote(`${plan.mediaRoot}/`)};`, `disable_symlinks on ${quote(`from=${plan.mediaRoot}`)};`, 'open_file_cache off;'],
    '}',
    `location ^~ ${ACCEL_PREFIXES.cache} {`,
    ['internal;', `alias ${quote(`${plan.cacheDir}/`)};`, `disable_symlinks on ${quote(`from=${plan.cacheDir}`)};`, 'open_file_cache off;'],
    '}',
  ];
}

function listenLines(plan: StaticServerPlan): string[] {
  const address = plan.listen.host === undefined ? String(plan.listen.port) : `${plan.listen.host}:${plan.listen.port}`;
  if (plan.tls === undefined) return [`listen ${address};`];
  return [
    `listen ${address} ssl;`,
    `ssl_certificate ${quote(plan.tls.certificate)};`,
    `ssl_certificate_key ${quote(plan.tls.key)};`,
    'ssl_protocols TLSv1.2 TLSv1.3;',
  ];
}

function serverBlock(plan: StaticServerPlan, accessLogPath: string): Lines {
  return [
    'server {',
    [
      ...listenLines(plan),
      `server_name ${plan.serverName};`,
      'server_tokens off;',
      'autoindex off;',
      '# keepsake takes only small forms (login); nothing is uploaded through the web.',
      'client_max_body_size 64k;',
      `access_log ${quote(accessLogPath)} keepsake_private;`,
      '',
      ...comment('Only media are ever sent from disk here, so only media types are known.'),
      ...mediaTypes(),
      `default_type ${quote(TEXT_TYPE)};`,
      '',
      ...comment('On every answer nginx gives, errors included (keepsake\'s own copies are hidden below).'),
      ...headerLines(plan),
      '',
      ...errorPages(),
      'limit_req_status 429;',
      '',
      `location = /robots.txt { expires 1d; return 200 ${quoteWithNewlines(ROBOTS_TXT)}; }`,
      '',
      ...tokenLocations(plan),
      '',
      ...accelLocations(plan),
      '',
      ...comment('Pages, /api, /login, /logout, /s/… share links, /assets/, and media nginx leaves to keepsake.'),
      'location / {',
      proxyDirectives(plan),
      '}',
      'location @keepsake {',
      proxyDirectives(plan),
      '}',
      '',
      ...comment('The same bodies keepsake sends, so a refusal reads the same whoever gave it.'),
      `location @keepsake_not_found { ${REFUSAL_TYPE_LINES.join(' ')} return 404 ${quoteWithNewlines(REFUSAL_BODIES[404])}; }`,
      `location @keepsake_forbidden { ${REFUSAL_TYPE_LINES.join(' ')} return 403 ${quoteWithNewlines(REFUSAL_BODIES[403])}; }`,
      'location @keepsake_too_many {',
      ['add_header Retry-After 1 always;', ...headerLines(plan), `return 429 ${quoteWithNewlines(REFUSAL_BODIES[429])};`],
      '}',
      // keepsake down or restarting: as its own 503 says, try again in a few seconds (a media
      // location's types and caching must not reach this answer either).
      'location @keepsake_unavailable {',
      [...REFUSAL_TYPE_LINES, `add_header Retry-After ${UNAVAILABLE_RETRY_AFTER_S} always;`, ...headerLines(plan), `return 502 ${quoteWithNewlines(REFUSAL_BODIES[502])};`],
      '}',
    ],
    '}',
  ];
}

function rateZones(plan: StaticServerPlan): Lines {
  const { rates } = plan.guard;
  if (!rates.enabled) return comment('guard.rates.enabled is false: no media budgets.');
  return [
    ...comment(
      'guard.rates: the per-session and per-address media budgets. nginx cannot end a session the way',
      'keepsake\'s tripwire does; keepsake still sees every page, login and derivative miss.',
    ),
    `limit_req_zone $cookie_${LINK_COOKIE} zone=keepsake_media_by_session:10m rate=${rates.perSession.perSecond}r/s;`,
    `limit_req_zone $binary_remote_addr zone=keepsake_media_by_address:10m rate=${rates.perAddress.perSecond}r/s;`,
  ];
}

export interface NginxRenderOptions extends StaticServerOptions {
  /** Where the token-masking access log goes; default /var/log/nginx/keepsake.access.log. */
  readonly accessLog?: string | undefined;
}

/** The nginx configuration, to include inside `http { }`. Pure: same options, same text. */
export function renderNginxConfig(options: NginxRenderOptions): string {
  const plan = planStaticServer(options);
  const header = [
    ...preamble('nginx', plan),
    '',
    'Include this file inside nginx\'s http { } block (e.g. /etc/nginx/conf.d/keepsake.conf). It needs',
    'ngx_http_secure_link_module (Debian\'s nginx has it; check with `nginx -V`). nginx\'s worker user',
    'must be able to read the web root, the views, the cache and the media root (e.g. add www-data to',
    'keepsake\'s group; the secrets stay 0600). nginx\'s error log names refused paths, tokens included:',
    'keep it as private as the access log. Add `pcre_jit on;` to the main context of nginx.conf: the',
    'user-agent check is a regular expression on every request, and JIT makes it about 1.5x faster.',
    plan.accel
      ? 'Mode --accel: every request goes to keepsake (KEEPSAKE_ACCEL=nginx); nginx sends the media bytes.'
      : 'Mode static: nginx sends /<token>/… from the web root when the browser proves the token is its own.',
  ];
  // In --accel mode keepsake applies its guard to every request itself; the maps read variables
  // that only the static media location defines, so they are left out with it.
  const staticOnly = plan.accel ? [] : [...nginxGuardMaps(plan), '', ...rateZones(plan), ''];
  return renderFile(header, [
    ...staticOnly,
    ...accessLog(),
    '',
    `upstream ${UPSTREAM} {`,
    [`server ${plan.upstream.host}:${plan.upstream.port};`, 'keepalive 16;'],
    '}',
    '',
    ...serverBlock(plan, options.accessLog ?? '/var/log/nginx/keepsake.access.log'),
  ]);
}
