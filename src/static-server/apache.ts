import { ENROL_PATH_PREFIX, extensionsOf, LOGGED_ENROL_SOURCE, LOGGED_SHARE_SOURCE, LOGGED_TOKEN_SOURCE, mediaTypeOf, SHARE_PATH_PREFIX, TEXT_TYPE, UNAVAILABLE_RETRY_AFTER_S } from '../media-contract.js';
import { LINK_SCRIPT_NAME } from './link-scripts.js';
import { comment, quote, quoteRegex, renderFile, type Lines } from './config-text.js';
import { refusalFileName, requireRefusalsDir } from './refusal-pages.js';
import {
  allowedFetchSites,
  alternation,
  blockedAgentPatterns,
  escapeRegExp,
  planStaticServer,
  preamble,
  securityHeaders,
  TOKEN_SOURCE,
  type StaticServerOptions,
  type StaticServerPlan,
} from './rules.js';

/*
 * Apache sends derivatives straight from the web root when the keepsake_link cookie proves the
 * token is the browser's own: a mod_lua hook (link-scripts.ts) checks the cookie before mod_rewrite
 * and mod_proxy look at the request, and names the file. Everything else is proxied to keepsake.
 * Apache refuses what it can decide alone (mod_rewrite [F] = 403, like keepsake's guard; blocked
 * addresses by Require) and sends the headers.
 */

const MEDIA_URL = `^/${TOKEN_SOURCE}/`;
/** Where Apache finds keepsake's refusal bodies (an Alias of `<stateDir>/refusals`; never proxied). */
const REFUSALS_URL = '/_keepsake/refusals/';
// RewriteCond reads its arguments raw: backslashes stay as written, and no quote can be escaped.
const rewriteArgument = quoteRegex;
const REFUSE = 'RewriteRule ^ - [F]';

function agentRules(plan: StaticServerPlan): Lines {
  const { userAgents } = plan.guard;
  if (!userAgents.enabled) return comment('guard.userAgents.enabled is false.');
  const allow = userAgents.allow.length === 0 ? [] : [`RewriteCond %{HTTP_USER_AGENT} ${rewriteArgument(`!${alternation(userAgents.allow.map(escapeRegExp))}`)} [NC]`];
  return [
    ...comment('Blocked user agents: src/guard/blocked-user-agents.json plus guard.userAgents.block; allow wins.'),
    ...(userAgents.blockEmpty ? [`RewriteCond %{REQUEST_URI} ${rewriteArgument(MEDIA_URL)}`, 'RewriteCond %{HTTP_USER_AGENT} ^$', REFUSE] : []),
    `RewriteCond %{REQUEST_URI} ${rewriteArgument(MEDIA_URL)}`,
    ...allow,
    `RewriteCond %{HTTP_USER_AGENT} ${rewriteArgument(alternation(blockedAgentPatterns(plan.guard)))} [NC]`,
    REFUSE,
  ];
}

function probingRules(plan: StaticServerPlan): Lines {
  if (!plan.guard.probing.enabled) return comment('guard.probing.enabled is false.');
  const images = extensionsOf('image');
  return [
    ...comment('HEAD and Range (or Request-Range) on images size up a gallery; video players need Range.'),
    `RewriteCond %{REQUEST_URI} ${rewriteArgument(`${MEDIA_URL}.*\\.(?:${images.join('|')})$`)} [NC]`,
    'RewriteCond %{REQUEST_METHOD} =HEAD [OR]',
    'RewriteCond %{HTTP:Range} . [OR]',
    'RewriteCond %{HTTP:Request-Range} .',
    REFUSE,
  ];
}

function hotlinkRules(plan: StaticServerPlan): Lines {
  const { hotlink } = plan.guard;
  if (!hotlink.enabled) return comment('guard.hotlink.enabled is false.');
  const sites = allowedFetchSites(plan.guard);
  // Our origin: the public URL, else scheme and Host of the request, matched again as \1.
  const ownOrigin = plan.publicOrigin ?? '%{REQUEST_SCHEME}://%{HTTP_HOST}';
  const withoutFetchSite = [`RewriteCond %{REQUEST_URI} ${rewriteArgument(MEDIA_URL)}`, 'RewriteCond %{HTTP:Sec-Fetch-Site} ^$'];
  return [
    ...comment('Hotlinks: Sec-Fetch-Site must be same-origin (or none, a typed URL); without it, the Referer.'),
    `RewriteCond %{REQUEST_URI} ${rewriteArgument(MEDIA_URL)}`,
    `RewriteCond %{HTTP:Sec-Fetch-Site} ${rewriteArgument(`!^(?:${sites.join('|')})$`)}`,
    REFUSE,
    ...(hotlink.allowEmptyReferer ? [] : [...withoutFetchSite, 'RewriteCond %{HTTP_REFERER} ^$', REFUSE]),
    ...withoutFetchSite,
    'RewriteCond %{HTTP_REFERER} .',
    `RewriteCond ${rewriteArgument(`${ownOrigin} %{HTTP_REFERER}`)} ${rewriteArgument('!^(\\S+) \\1(?:[/?#]|$)')} [NC]`,
    REFUSE,
  ];
}

function addressRules(plan: StaticServerPlan): Lines {
  const ranges = plan.guard.addresses.block;
  if (ranges.length === 0) return comment('guard.addresses.block is empty.');
  return [
    ...comment('guard.addresses.block: these addresses get nothing (keepsake refuses them everything too); the refusal bodies stay readable.'),
    '<Location "/">',
    ['<RequireAll>', ['Require all granted', `Require not ip ${ranges.join(' ')}`], '</RequireAll>'],
    '</Location>',
    `<Location ${quote(REFUSALS_URL)}>`,
    ['Require all granted'],
    '</Location>',
  ];
}

/**
 * URLs hold session tokens and share links, both secrets: the log keeps only their first letters,
 * as keepsake's own log does. mod_rewrite sets the logged path from the decoded URL (the same
 * patterns as nginx's, from the media contract); the Lua hook sets it for what it sends from disk,
 * which mod_rewrite never sees. This vhost's own CustomLog also keeps Debian's
 * other_vhosts_access.log, which logs whole URLs, away from keepsake's requests.
 */
function accessLogRules(accessLog: string): Lines {
  return [
    ...comment('The access log: tokens and share links shortened, the query string left out.'),
    'RewriteRule ^(.*)$ - [E=KEEPSAKE_LOGGED_PATH:$1]',
    `RewriteRule ${rewriteArgument(LOGGED_SHARE_SOURCE)} - [E=KEEPSAKE_LOGGED_PATH:${SHARE_PATH_PREFIX}….$1…]`,
    `RewriteRule ${rewriteArgument(LOGGED_ENROL_SOURCE)} - [E=KEEPSAKE_LOGGED_PATH:${ENROL_PATH_PREFIX}$1…]`,
    `RewriteRule ${rewriteArgument(LOGGED_TOKEN_SOURCE)} - [E=KEEPSAKE_LOGGED_PATH:/$1…$2]`,
  ].concat(comment(`Logged to ${accessLog}.`));
}

function headerRules(plan: StaticServerPlan): Lines {
  return [
    ...comment(
      'On every answer, errors included. `always` covers Apache\'s own errors; the plain `unset` drops',
      'keepsake\'s copy from proxied answers so each header appears once.',
    ),
    ...securityHeaders(plan).flatMap(([name, value]) => [`Header unset ${name}`, `Header always set ${name} ${quote(value)}`]),
  ];
}

function proxyRules(plan: StaticServerPlan): Lines {
  const upstream = `http://${plan.upstream.host}:${plan.upstream.port}/`;
  return [
    ...comment(
      'Everything but robots.txt goes to keepsake, media included. mod_proxy_http appends to a client\'s',
      'X-Forwarded-For, and keepsake reads the first address, so the client\'s are removed first.',
    ),
    'RequestHeader unset X-Forwarded-For early',
    'RequestHeader unset X-Forwarded-Host early',
    'RequestHeader unset Forwarded early',
    `RequestHeader set X-Forwarded-Proto ${plan.tls === undefined ? 'http' : 'https'}`,
    'ProxyPreserveHost On',
    'ProxyPass /robots.txt !',
    `ProxyPass ${REFUSALS_URL} !`,
    // nocanon: keepsake decodes the path itself, exactly once.
    `ProxyPass / ${upstream} nocanon`,
    `ProxyPassReverse / ${upstream}`,
  ];
}

function virtualHost(plan: StaticServerPlan): string {
  return `${plan.listen.host ?? '*'}:${plan.listen.port}`;
}

/** The Apache configuration, to include from apache2.conf or sites-enabled. Pure: same options, same text. */
export function renderApacheConfig(options: StaticServerOptions): string {
  const plan = planStaticServer(options);
  if (plan.accel) throw new TypeError('accel: X-Accel-Redirect is nginx\'s; Apache sends derivatives from disk and proxies the rest');
  const refusals = requireRefusalsDir(plan, 'Apache');
  if (plan.linkScript === undefined) throw new TypeError(`linkScript: expected where keepsake writes the mod_lua script (<stateDir>/apache/${LINK_SCRIPT_NAME})`);
  const script = plan.linkScript;
  const mime = mediaTypeOf(`x.${plan.derivativeFormat}`);
  const accessLog = plan.accessLog ?? '/var/log/apache2/keepsake.access.log';
  const header = [
    ...preamble('apache', plan),
    '',
    'Put it in /etc/apache2/sites-available/keepsake.conf and run `a2enmod proxy proxy_http headers',
    `rewrite alias mime lua authz_host${plan.tls === undefined ? '' : ' ssl'} && a2ensite keepsake\`; add \`Listen ${virtualHost(plan).replace(/^\*:/, '')}\` to ports.conf unless it is there.`,
    `It needs the script ${script}, which \`keepsake nginx-config --server apache\``,
    'wrote: it holds the link secret, so only root and Apache\'s user may read it. Check with `apache2ctl -t`.',
    '',
    'What Apache enforces: blocked addresses and user agents, HEAD/Range on images, Sec-Fetch-Site and',
    'the Referer, robots.txt, no listings, the security headers. What it serves from disk: derivatives,',
    'through the session\'s token link, when the keepsake_link cookie proves the token is the browser\'s',
    'own. Originals and videos always go to keepsake: they live in the media root, where a planted link',
    'cannot be refused safely here. keepsake checks everything it is sent and answers every 404 with its',
    'uniform body. No media rate limits for what Apache sends itself (nginx has them).',
  ];
  const tls: Lines =
    plan.tls === undefined ? [] : ['SSLEngine on', `SSLCertificateFile ${quote(plan.tls.certificate)}`, `SSLCertificateKeyFile ${quote(plan.tls.key)}`];
  return renderFile(header, [
    `<VirtualHost ${virtualHost(plan)}>`,
    [
      ...(plan.serverName === '_' ? [] : [`ServerName ${plan.serverName}`]),
      ...tls,
      'ServerSignature Off',
      ...comment(
        'The web root holds only token links and robots.txt. robots.txt and the derivatives the script',
        'names (files, never folders) are served from it, through the token and view links.',
      ),
      `DocumentRoot ${quote(plan.webRoot)}`,
      `<Directory ${quote(plan.webRoot)}>`,
      [
        'Options FollowSymLinks',
        'AllowOverride None',
        'Require all granted',
        `AddType ${quote(mime)} .${plan.derivativeFormat}`,
        '# Derivatives are pictures: no Range on them (media-contract.ts), nor an Accept-Ranges that promises it.',
        'MaxRanges none',
        'Header unset Accept-Ranges',
      ],
      '</Directory>',
      ...addressRules(plan),
      ...comment(
        'Before mod_rewrite and mod_proxy: a proven derivative on disk is named here, anything else declined.',
        'One Lua state per thread, reused: the default (`once`) makes a new one for every request.',
      ),
      'LuaScope thread',
      `LuaHookTranslateName ${quote(script)} keepsake_link early`,
      '<Location "/robots.txt">',
      ['ForceType "text/plain; charset=utf-8"'],
      '</Location>',
      ...comment('Refusals carry keepsake\'s own bodies, from the files keepsake writes at every start.'),
      `Alias ${REFUSALS_URL} ${quote(`${refusals}/`)}`,
      `<Directory ${quote(refusals)}>`,
      ['Options None', 'AllowOverride None', 'Require all granted', `ForceType ${quote(TEXT_TYPE)}`],
      '</Directory>',
      `ErrorDocument 403 ${REFUSALS_URL}${refusalFileName(403)}`,
      `ErrorDocument 404 ${REFUSALS_URL}${refusalFileName(404)}`,
      ...comment(
        'keepsake down or restarting (mod_proxy answers 503 itself): the same "try again" keepsake sends,',
        'with its Retry-After. keepsake\'s own 503s pass through as they are, Retry-After included.',
      ),
      `ErrorDocument 502 ${REFUSALS_URL}${refusalFileName(502)}`,
      `ErrorDocument 503 ${REFUSALS_URL}${refusalFileName(502)}`,
      `Header always setifempty Retry-After ${UNAVAILABLE_RETRY_AFTER_S} "expr=%{REQUEST_STATUS} -in {'502', '503'}"`,
      '',
      ...headerRules(plan),
      '',
      // Apache's own escapes for the quotes inside the format: a fixed text, not a value from the options.
      'LogFormat "%a %t \\"%m %{KEEPSAKE_LOGGED_PATH}e %H\\" %>s %B \\"%{User-Agent}i\\" %D" keepsake_private',
      `CustomLog ${quote(accessLog)} keepsake_private`,
      '',
      'RewriteEngine On',
      ...accessLogRules(accessLog),
      ...agentRules(plan),
      ...probingRules(plan),
      ...hotlinkRules(plan),
      '',
      ...proxyRules(plan),
    ],
    '</VirtualHost>',
  ]);
}
