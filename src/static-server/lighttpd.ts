import { extensionsOf, mediaTypeOf, TEXT_TYPE } from '../media-contract.js';
import { comment, quoteRegex, quoteVerbatim as quote, renderFile, type Lines } from './config-text.js';
import { LIGHTTPD_DISK_PREFIX, LINK_SCRIPT_NAME } from './link-scripts.js';
import { REFUSAL_FILE_PREFIX, requireRefusalsDir } from './refusal-pages.js';
import {
  allowedFetchSites,
  alternation,
  blockedAgentPatterns,
  escapeRegExp,
  planStaticServer,
  preamble,
  securityHeaders,
  TOKEN_SOURCE,
  derivativePathSource,
  type StaticServerOptions,
  type StaticServerPlan,
} from './rules.js';

/*
 * lighttpd serves derivatives straight from the web root when the keepsake_link cookie proves the
 * token is the browser's own: a mod_magnet script checks the cookie (link-scripts.ts) and hands
 * the request to an internal prefix aliased to the web root. Everything else (pages, /api, logins,
 * originals, videos, derivative misses, any request the cookie does not prove) goes to keepsake.
 * lighttpd adds what it can enforce on its own: the user-agent, probing and hotlink refusals for
 * media, robots.txt, no listings, the headers, and X-Forwarded-* that only it writes.
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

function addressRules(plan: StaticServerPlan): Lines {
  const ranges = plan.guard.addresses.block;
  if (ranges.length === 0) return comment('guard.addresses.block is empty.');
  return [
    ...comment('guard.addresses.block: these addresses get no media (keepsake refuses them everything else).'),
    ...ranges.flatMap((range) => denyWhen(`$HTTP["remoteip"] == ${quote(range)}`, 'a blocked address')),
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
  const allowedSites = allowedFetchSites(plan.guard);
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

/** The derivative URLs the script looks at: the media contract's pattern, nothing else. */
function diskRules(plan: StaticServerPlan, script: string): Lines {
  const derivatives = derivativePathSource(plan);
  return [
    ...comment(
      'Derivatives: the script sends those the link cookie proves to the internal prefix below (it',
      'refuses that prefix from outside); the rest goes on to keepsake.',
    ),
    ...(derivatives === undefined ? [] : [`$HTTP["url"] =~ ${quoteRegex(derivatives)} {`, [`magnet.attract-raw-url-to = ( ${quote(script)} )`], '}']),
  ];
}

/** Where proven derivatives are sent from: the web root, through the token link. */
function diskBranch(plan: StaticServerPlan, script: string): Lines {
  const mime = mediaTypeOf(`x.${plan.derivativeFormat}`);
  return [
    `$HTTP["url"] =~ ${quoteRegex(`^${LIGHTTPD_DISK_PREFIX}/`)} {`,
    [
      `magnet.attract-raw-url-to = ( ${quote(script)} )`,
      `alias.url = ( ${quote(`${LIGHTTPD_DISK_PREFIX}/`)} => ${quote(`${plan.webRoot}/`)} )`,
      `mimetype.assign = ( ${quote(`.${plan.derivativeFormat}`)} => ${quote(mime)} )`,
      '# Derivatives are pictures: no Range on them (media-contract.ts), nor an Accept-Ranges that promises it.',
      'server.range-requests = "disable"',
      '# The response headers are the outer ones (chosen before the script\'s restart); the script adds Cache-Control.',
    ],
    '}',
  ];
}

function proxyRules(plan: StaticServerPlan, script: string): Lines {
  const [diskCondition, ...diskBody] = diskBranch(plan, script);
  return [
    ...comment(
      'Everything else goes to keepsake. X-Forwarded-* from the client are removed first so that',
      'only lighttpd\'s own (mod_proxy adds X-Forwarded-For and -Proto) reach keepsake.',
    ),
    '$HTTP["url"] == "/robots.txt" {',
    ['mimetype.assign = ( ".txt" => "text/plain; charset=utf-8" )'],
    '}',
    `else ${String(diskCondition)}`,
    ...diskBody,
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
  if (plan.accel) throw new TypeError('accel: X-Accel-Redirect is nginx\'s; lighttpd sends derivatives from disk and proxies the rest');
  const refusals = requireRefusalsDir(plan, 'lighttpd');
  if (plan.linkScript === undefined) throw new TypeError(`linkScript: expected where keepsake writes the mod_magnet script (<stateDir>/lighttpd/${LINK_SCRIPT_NAME})`);
  const script = plan.linkScript;
  const header = [
    ...preamble('lighttpd', plan),
    '',
    'Include it from lighttpd.conf (e.g. /etc/lighttpd/conf-enabled/90-keepsake.conf). It needs mod_proxy',
    'and mod_alias (Debian: the lighttpd package), mod_magnet (Debian: lighttpd-modules-lua) and the',
    `built-in mod_access and mod_setenv, and the script ${script}, which`,
    '`keepsake nginx-config --server lighttpd` wrote beside the state dir: it holds the link secret, so',
    'only root and lighttpd\'s user may read it. Test it with `lighttpd -tt -f /etc/lighttpd/lighttpd.conf`:',
    'an "unknown config-key" warning means a rule is ignored.',
    '',
    'What lighttpd enforces: blocked addresses and user agents, HEAD/Range on images, Sec-Fetch-Site',
    '(and the Referer when KEEPSAKE_PUBLIC_URL is set), robots.txt, no listings, the security headers.',
    'What it serves from disk: derivatives, through the session\'s token link, when the keepsake_link',
    'cookie proves the token is the browser\'s own. Originals and videos always go to keepsake: they',
    'live in the media root, where lighttpd cannot refuse a planted link safely. keepsake checks',
    'everything it is sent and answers every 404 with its uniform body. No media rate limits for',
    'what lighttpd sends itself (nginx has them).',
  ];
  const tls: Lines = plan.tls === undefined ? [] : ['ssl.engine = "enable"', `ssl.pemfile = ${quote(plan.tls.certificate)}`, `ssl.privkey = ${quote(plan.tls.key)}`];
  // TLS lives in a module of its own (Debian: lighttpd-mod-openssl).
  // mod_magnet before mod_proxy: both look at the URL at the same step, the script first.
  const modules = ['mod_setenv', 'mod_access', 'mod_alias', 'mod_magnet', 'mod_proxy', 'mod_accesslog', ...(plan.tls === undefined ? [] : ['mod_openssl'])];
  return renderFile(header, [
    ...comment('A module already loaded by lighttpd.conf may be named again; lighttpd loads it once, in', 'the first place it is named.'),
    ...comment('mod_setenv must come before mod_access, or refusals go out without the headers.'),
    `server.modules += ( ${modules.map((name) => `"${name}"`).join(', ')} )`,
    '',
    `$SERVER["socket"] == ${quote(socket(plan))} {`,
    [
      ...tls,
      ...comment(
        'The web root holds only token links and robots.txt. Only /robots.txt and proven derivatives',
        '(files, never folders) are served from it, so there is nothing to list whatever mod_dirlisting says.',
      ),
      `server.document-root = ${quote(plan.webRoot)}`,
      'server.tag = "keepsake"',
      ...comment(
        'URLs hold session tokens and share links, both secrets, and lighttpd\'s access log cannot',
        'shorten them: it logs no path at all (keepsake\'s own log has every request it is sent).',
      ),
      `accesslog.filename = ${quote(plan.accessLog ?? '/var/log/lighttpd/keepsake.access.log')}`,
      'accesslog.format = "%h %t \\"%m\\" %>s %b \\"%{User-Agent}i\\" %D"',
      ...comment('Refusals carry keepsake\'s own bodies, from the files keepsake writes at every start.'),
      `server.errorfile-prefix = ${quote(`${refusals}/${REFUSAL_FILE_PREFIX}`)}`,
      `mimetype.assign = ( ".html" => ${quote(TEXT_TYPE)} )`,
      ...comment('On every answer, proxied ones included (set replaces keepsake\'s copy).'),
      `setenv.set-response-header = ( ${securityHeaders(plan).map(([name, value]) => `${quote(name)} => ${quote(value)}`).join(', ')} )`,
      '',
      ...comment('Media URLs: /<token>/<variant>/…, and the same sent from disk under the internal prefix.'),
      `$HTTP["url"] =~ ${quoteRegex(`^(?:${LIGHTTPD_DISK_PREFIX})?/${TOKEN_SOURCE}/`)} {`,
      [...addressRules(plan), '', ...agentRules(plan), '', ...probingRules(plan), '', ...hotlinkRules(plan)],
      '}',
      '',
      ...diskRules(plan, script),
      '',
      ...proxyRules(plan, script),
    ],
    '}',
  ]);
}
