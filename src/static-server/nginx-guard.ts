import type { GuardConfig } from '../guard/index.js';
import { comment, quote, type Lines } from './config-text.js';
import { extensionsOf } from '../media-contract.js';
import { alternation, blockedAgentPatterns, escapeRegExp, type StaticServerPlan } from './rules.js';

/*
 * keepsake's stateless guard policies (src/guard/decide.ts) as nginx maps. A map is evaluated
 * only when a variable is read, so these cost nothing on requests that nginx proxies; only the
 * media location reads them. Each map says 1 for "refuse"; one last map folds them into a single
 * variable that fails closed on any value it does not expect.
 */

const flag = (refuse: boolean) => (refuse ? '1' : '0');

function agentMap(guard: GuardConfig): Lines {
  const { userAgents } = guard;
  const entries: string[] = [];
  if (userAgents.enabled) {
    if (userAgents.blockEmpty) entries.push('""  1;');
    // nginx tries regular expressions in order: the allow list first, so it wins, as in keepsake.
    for (const allowed of userAgents.allow) entries.push(`${quote(`~*${escapeRegExp(allowed)}`)}  0;`);
    entries.push(`${quote(`~*${alternation(blockedAgentPatterns(guard))}`)}  1;`);
  }
  return [
    ...comment(
      'Scripting clients, site copiers and AI crawlers, by what they call themselves:',
      'src/guard/blocked-user-agents.json plus guard.userAgents.block, case-insensitive,',
      'with guard.userAgents.allow winning. Browsers always send a User-Agent.',
    ),
    'map $http_user_agent $keepsake_agent_refused {',
    ['default  0;', ...entries],
    '}',
  ];
}

function addressMap(guard: GuardConfig): Lines {
  const ranges = guard.addresses.block.filter((range) => /^[0-9A-Fa-f:./]+$/.test(range));
  return [
    ...comment('guard.addresses.block: these addresses get no media (keepsake refuses them everything else).'),
    'geo $keepsake_address_refused {',
    ['default  0;', ...ranges.map((range) => `${range}  1;`)],
    '}',
  ];
}

function probingMaps(guard: GuardConfig): Lines {
  const videos = extensionsOf('video');
  const rules = guard.probing.enabled ? [`${quote('~^image HEAD ')}  1;`, `${quote('~^image \\S+ .')}  1;`] : [];
  return [
    ...comment('Images and videos by extension (src/media-contract.ts); an unknown one counts as an image.'),
    'map $keepsake_extension $keepsake_media_type {',
    ['default  image;', `${quote(`~*^(?:${videos.join('|')})$`)}  video;`],
    '}',
    '',
    ...comment(
      'HEAD (is it there, how big?) and Range or the old Request-Range (a slice) on an image are how',
      'scrapers size up a gallery; a page shows an image with one plain GET. Video players need Range.',
    ),
    'map "$keepsake_media_type $request_method $http_range$http_request_range" $keepsake_probing_refused {',
    ['default  0;', ...rules],
    '}',
  ];
}

function hotlinkMaps(guard: GuardConfig, plan: StaticServerPlan): Lines {
  const { hotlink } = guard;
  if (!hotlink.enabled) {
    return [...comment('guard.hotlink.enabled is false: media may be embedded anywhere.'), 'map $http_sec_fetch_site $keepsake_hotlink_refused {', ['default  0;'], '}'];
  }
  // Our origin: the configured public URL, else scheme and Host of the request, as keepsake does.
  const ownOrigin = plan.publicOrigin ?? '$scheme://$http_host';
  return [
    ...comment(
      'Media must be fetched by our own pages. Browsers say so with Sec-Fetch-Site, which a page',
      'cannot forge; older ones only with a Referer, which our pages send to us alone',
      '(Referrer-Policy: same-origin). Mirrors src/guard/hotlink.ts and guard.hotlink.',
    ),
    'map $http_sec_fetch_site $keepsake_hotlink_refused {',
    [
      'default      1;  # browsers send only the four values below',
      'same-origin  0;',
      `none         ${flag(!hotlink.allowTypedUrl)};  # a typed URL or bookmark (guard.hotlink.allowTypedUrl)`,
      'same-site    1;',
      'cross-site   1;',
      '""           $keepsake_referer_refused;',
    ],
    '}',
    '',
    ...comment('Without Sec-Fetch-Site: the Referer\'s origin must be ours (\\1 is our origin, matched again).'),
    `map ${quote(`${ownOrigin} $http_referer`)} $keepsake_referer_refused {`,
    [
      'default  1;',
      `${quote('~^\\S* $')}  ${flag(!hotlink.allowEmptyReferer)};  # no Referer at all (guard.hotlink.allowEmptyReferer)`,
      `${quote('~*^(\\S+) \\1(?:[/?#]|$)')}  0;`,
    ],
    '}',
  ];
}

/** What the media location does with a request: `serve` it from disk, 403, 404, or hand it to `keepsake`. */
export const MEDIA_VERDICT = 'keepsake_media_verdict';

/**
 * Every map the media location reads, in the order keepsake asks its policies. The link cookie
 * binds the User-Agent (src/media-contract.ts): a request whose cookie proves its token was sent
 * by the very User-Agent keepsake's guard let in when it wrote the cookie, so for it the
 * user-agent expression, the costliest check nginx has, is not run; every other policy is.
 */
export function nginxGuardMaps(plan: StaticServerPlan): Lines {
  const { guard } = plan;
  return [
    ...addressMap(guard),
    '',
    ...agentMap(guard),
    '',
    ...probingMaps(guard),
    '',
    ...hotlinkMaps(guard, plan),
    '',
    ...comment('All four policies at once. Anything but "0000" is a refusal, so a typo fails closed.'),
    'map "$keepsake_address_refused$keepsake_agent_refused$keepsake_probing_refused$keepsake_hotlink_refused" $keepsake_media_refused {',
    ['default  1;', '"0000"   0;'],
    '}',
    ...comment('The same without the user agent, for a request whose cookie already proves it.'),
    'map "$keepsake_address_refused$keepsake_probing_refused$keepsake_hotlink_refused" $keepsake_proven_refused {',
    ['default  1;', '"000"    0;'],
    '}',
    '',
    ...comment(
      'The token proof. secure_link (set in the token location) makes $secure_link "1" only when the',
      'keepsake_link cookie is MD5 over the token, this User-Agent and the secrets, which keepsake sets',
      'at login for Path=/<token>/ and clears at logout. Like keepsake, media answer only GET and HEAD.',
    ),
    'map "$secure_link $request_method" $keepsake_link_proven {',
    ['default   0;', '"1 GET"   1;', '"1 HEAD"  1;'],
    '}',
    'map $cookie_keepsake_link $keepsake_link_sent {',
    ['default  1;', '""       0;'],
    '}',
    '',
    ...comment(
      'The verdict. A map\'s value that names a variable is worked out only when chosen, so the',
      'user-agent map is read only for requests without a proving cookie. A cookie that proves',
      'nothing here (a browser updated mid-session, or a cookie from before the policy changed) goes',
      'to keepsake, which checks the session itself and writes a fresh cookie; no cookie is a 404.',
    ),
    `map "$keepsake_link_proven$keepsake_link_sent" $${MEDIA_VERDICT} {`,
    ['"11"     $keepsake_verdict_proven;', '"01"     $keepsake_verdict_unproven;', 'default  $keepsake_verdict_anonymous;'],
    '}',
    'map $keepsake_proven_refused $keepsake_verdict_proven {',
    ['default  403;', '0        serve;'],
    '}',
    'map $keepsake_media_refused $keepsake_verdict_unproven {',
    ['default  403;', '0        keepsake;'],
    '}',
    'map $keepsake_media_refused $keepsake_verdict_anonymous {',
    ['default  403;', '0        404;'],
    '}',
  ];
}
