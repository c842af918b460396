import { extensionsOf, TEXT_TYPE } from '../media-contract.js';
import { comment, quoteRegex, quoteVerbatim as quote, renderFile, type Lines } from './config-text.js';
import { REFUSAL_FILE_PREFIX, requireRefusalsDir } from './refusal-pages.js';
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
 * lighttpd cannot check the keepsake_link cookie: its configuration has no hash function, and
 * mod_secdownload checks a hash inside the URL, not a cookie. Serving /<token>/… from disk would
 * let anyone holding a URL fetch it until the session ends, so lighttpd proxies every request,
 * media included, and keepsake checks the session. lighttpd adds what it can enforce on its
 * own: the user-agent, probing and hotlink refusals for media, robots.txt, no listings, the
 * headers, and X-Forwarded-* that only it writes.
 */

const DENY = 'url.access-deny = ( "" )';

function denyWhen(condition: string, why: string): Lines {
  return [`${condition} {  # ${why}`, [DENY], '}'];
}

function agentRules(plan: StaticServerPlan): Lines {
  const { userAgents } = plan.guard;
  if (!userAgents.enabled) return comment('guard.userAgents.enabled is false.');
  const blocked = `$HTTP["useragent"] =~ ${quoteRegex(`(?i)${alternation(blockedAgentPatterns(plan.guard))}`)}`;
  // The allow list wins, as in keepsake: the block applies only when no allowed text is present.
  const allowed = userAgents.allow.length === 0 ? undefined : `$HTTP["useragent"] !~ ${quoteRegex(`(?i)${alternation(userAgents.allow.map(escapeRegExp))}`)}`;
  return [
    ...comment('Blocked user agents: src/guard/blocked-user-agents.json plus guard.userAgents.block.'),
    ...(userAgents.blockEmpty ? denyWhen('$HTTP["useragent"] == ""', 'browsers always send one') : []),
    ...(allowed === undefined ? denyWhen(blocked, 'scripting clients and crawlers') : [`${allowed} {`, denyWhen(blocked, 'scripting clients and crawlers'), '}']),
  ];
}

function probingRules(plan: StaticServerPlan): Lines {
  if (!plan.guard.probing.enabled) return comment('guard.probing.enabled is false.');
  const images = extensionsOf('image');
  return [
    ...comment('HEAD and Range on images size up a gallery; video players need Range.'),
    `$HTTP["url"] =~ ${quoteRegex(`(?i)\\.(?:${images.join('|')})$`)} {`,
    [
      ...denyWhen('$HTTP["request-method"] == "HEAD"', 'HEAD on an image'),
      ...denyWhen('$REQUEST_HEADER["Range"] != ""', 'Range on an image'),
      ...denyWhen('$REQUEST_HEADER["Request-Range"] != ""', 'the old Request-Range on an image'),
    ],
    '}',
  ];
}

function hotlinkRules(plan: StaticServerPlan): Lines {
  const { hotlink } = plan.guard;
  if (!hotlink.enabled) return comment('guard.hotlink.enabled is false.');
  const allowedSites = ['', 'same-origin', ...(hotlink.allowTypedUrl ? ['none'] : [])];
  const refererRules: Lines =
    plan.publicOrigin === undefined
      ? comment('No KEEPSAKE_PUBLIC_URL: lighttpd cannot compare a Referer with the Host, so keepsake does.')
      : denyWhen(`$HTTP["referer"] !~ ${quoteRegex(`^${escapeRegExp(plan.publicOrigin)}(?:[/?#]|$)`)}`, 'a foreign Referer');
  const emptyReferer: Lines = hotlink.allowEmptyReferer ? [] : denyWhen('$HTTP["referer"] == ""', 'no Sec-Fetch-Site and no Referer');
  return [
    ...comment('Hotlinks: Sec-Fetch-Site must be same-origin (or none for a typed URL); without it, the Referer.'),
    ...denyWhen(`$REQUEST_HEADER["Sec-Fetch-Site"] !~ ${quoteRegex(`^(?:${allowedSites.join('|')})$`)}`, 'another site, or a made-up value'),
    '$REQUEST_HEADER["Sec-Fetch-Site"] == "" {',
    [...emptyReferer, ...(hotlink.allowEmptyReferer ? ['$HTTP["referer"] != "" {', refererRules, '}'] : refererRules)],
    '}',
  ];
}

function proxyRules(plan: StaticServerPlan): Lines {
  return [
    ...comment(
      'Everything else goes to keepsake, media included. X-Forwarded-* from the client are removed',
      'first so that only lighttpd\'s own (mod_proxy adds X-Forwarded-For and -Proto) reach keepsake.',
    ),
    '$HTTP["url"] == "/robots.txt" {',
    ['mimetype.assign = ( ".txt" => "text/plain; charset=utf-8" )'],
    '}',
    'else {',
    [
      'setenv.set-request-header = ( "X-Forwarded-For" => "", "X-Forwarded-Proto" => "", "X-Forwarded-Host" => "", "Forwarded" => "" )',
      `proxy.server = ( "" => ( ( "host" => ${quote(plan.upstream.host.replace(/^\[|\]$/g, ''))}, "port" => ${plan.upstream.port} ) ) )`,
      'proxy.forwarded = ( "for" => 1, "proto" => 1, "host" => 1 )',
      'proxy.header = ( "https-remap" => "disable", "upgrade" => "disable" )',
    ],
    '}',
  ];
}

function socket(plan: StaticServerPlan): string {
  const host = plan.listen.host ?? '';
  return `${host}:${plan.listen.port}`;
}

/** The lighttpd configuration, to include from lighttpd.conf. Pure: same options, same text. */
export function renderLighttpdConfig(options: StaticServerOptions): string {
  const plan = planStaticServer(options);
  if (plan.accel) throw new TypeError('accel: X-Accel-Redirect is nginx\'s; lighttpd always proxies media to keepsake');
  const refusals = requireRefusalsDir(plan, 'lighttpd');
  const header = [
    ...preamble('lighttpd', plan),
    '',
    'Include it from lighttpd.conf (e.g. /etc/lighttpd/conf-enabled/90-keepsake.conf); it needs mod_proxy',
    '(Debian: the lighttpd package) and the built-in mod_access and mod_setenv. Test it with',
    '`lighttpd -tt -f /etc/lighttpd/lighttpd.conf`: an "unknown config-key" warning means a rule is ignored.',
    '',
    'What lighttpd enforces: blocked user agents, HEAD/Range on images, Sec-Fetch-Site (and the',
    'Referer when KEEPSAKE_PUBLIC_URL is set), robots.txt, no listings, the security headers.',
    'What it cannot: the keepsake_link cookie (no hash in its configuration), so it never serves',
    'media from disk; keepsake checks the session, the grant, hidden files and paths, and answers',
    'every 404 with its uniform body. No X-Accel-Redirect (nginx only), no media rate limits.',
  ];
  const tls: Lines = plan.tls === undefined ? [] : ['ssl.engine = "enable"', `ssl.pemfile = ${quote(plan.tls.certificate)}`, `ssl.privkey = ${quote(plan.tls.key)}`];
  // TLS lives in a module of its own (Debian: lighttpd-mod-openssl).
  const modules = ['mod_setenv', 'mod_access', 'mod_proxy', ...(plan.tls === undefined ? [] : ['mod_openssl'])];
  return renderFile(header, [
    ...comment('A module already loaded by lighttpd.conf may be named again; lighttpd loads it once, in', 'the first place it is named.'),
    ...comment('mod_setenv must come before mod_access, or refusals go out without the headers.'),
    `server.modules += ( ${modules.map((name) => `"${name}"`).join(', ')} )`,
    '',
    `$SERVER["socket"] == ${quote(socket(plan))} {`,
    [
      ...tls,
      ...comment(
        'The web root holds only token links and robots.txt. Only /robots.txt is served from it (all',
        'else is proxied), so there is nothing to list whatever mod_dirlisting says.',
      ),
      `server.document-root = ${quote(plan.webRoot)}`,
      'server.tag = "keepsake"',
      ...comment('Refusals carry keepsake\'s own bodies, from the files keepsake writes at every start.'),
      `server.errorfile-prefix = ${quote(`${refusals}/${REFUSAL_FILE_PREFIX}`)}`,
      `mimetype.assign = ( ".html" => ${quote(TEXT_TYPE)} )`,
      ...comment('On every answer, proxied ones included (set replaces keepsake\'s copy).'),
      `setenv.set-response-header = ( ${securityHeaders(plan).map(([name, value]) => `${quote(name)} => ${quote(value)}`).join(', ')} )`,
      '',
      ...comment('Media URLs: /<token>/<variant>/…'),
      `$HTTP["url"] =~ ${quoteRegex(`^/${TOKEN_SOURCE}/`)} {`,
      [...agentRules(plan), '', ...probingRules(plan), '', ...hotlinkRules(plan)],
      '}',
      '',
      ...proxyRules(plan),
    ],
    '}',
  ]);
}
