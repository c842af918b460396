import { extensionsOf, TEXT_TYPE } from '../media-contract.js';
import { comment, quote, quoteRegex, renderFile, type Lines } from './config-text.js';
import { refusalFileName, requireRefusalsDir } from './refusal-pages.js';
import {
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
 * Apache cannot check the keepsake_link cookie either: ap_expr has md5() but only as hex, and
 * the cookie is base64url of the raw digest (what nginx's secure_link needs). So, as with
 * lighttpd, Apache proxies every request and keepsake checks the session; Apache refuses what
 * it can decide alone (mod_rewrite [F] = 403, like keepsake's guard) and sends the headers.
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
  const sites = ['', 'same-origin', ...(hotlink.allowTypedUrl ? ['none'] : [])];
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
  if (plan.accel) throw new TypeError('accel: X-Accel-Redirect is nginx\'s; Apache always proxies media to keepsake');
  const refusals = requireRefusalsDir(plan, 'Apache');
  const header = [
    ...preamble('apache', plan),
    '',
    'Put it in /etc/apache2/sites-available/keepsake.conf and run `a2enmod proxy proxy_http headers',
    `rewrite alias mime${plan.tls === undefined ? '' : ' ssl'} && a2ensite keepsake\`; add \`Listen ${virtualHost(plan).replace(/^\*:/, '')}\` to ports.conf unless it is there.`,
    '',
    'What Apache enforces: blocked user agents, HEAD/Range on images, Sec-Fetch-Site and the Referer,',
    'robots.txt, no listings, the security headers. What it cannot: the keepsake_link cookie, so it',
    'never serves media from disk; keepsake checks the session, the grant, hidden files and paths, and',
    'answers every 404 with its uniform body. No X-Accel-Redirect (nginx only), no media rate limits.',
  ];
  const tls: Lines =
    plan.tls === undefined ? [] : ['SSLEngine on', `SSLCertificateFile ${quote(plan.tls.certificate)}`, `SSLCertificateKeyFile ${quote(plan.tls.key)}`];
  return renderFile(header, [
    `<VirtualHost ${virtualHost(plan)}>`,
    [
      ...(plan.serverName === '_' ? [] : [`ServerName ${plan.serverName}`]),
      ...tls,
      'ServerSignature Off',
      ...comment('The web root holds only token links and robots.txt; only robots.txt is served from it.'),
      `DocumentRoot ${quote(plan.webRoot)}`,
      `<Directory ${quote(plan.webRoot)}>`,
      ['Options None', 'AllowOverride None', 'Require all granted'],
      '</Directory>',
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
      '',
      ...headerRules(plan),
      '',
      'RewriteEngine On',
      ...agentRules(plan),
      ...probingRules(plan),
      ...hotlinkRules(plan),
      '',
      ...proxyRules(plan),
    ],
    '</VirtualHost>',
  ]);
}
