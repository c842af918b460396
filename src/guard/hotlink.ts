import { ALLOW, clip, refuse, type Decision, type RequestFacts } from './facts.js';

export interface HotlinkOptions {
  readonly enabled: boolean;
  /** `Sec-Fetch-Site: none`: a typed URL or a bookmark, which a person did on purpose. */
  readonly allowTypedUrl: boolean;
  /** Neither Sec-Fetch-Site nor Referer: not a browser following one of our pages. */
  readonly allowEmptyReferer: boolean;
}

type HotlinkFacts = Pick<RequestFacts, 'isMedia' | 'secFetchSite' | 'referer' | 'ownOrigin'>;

function originOf(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const { origin } = new URL(url);
  return origin === 'null' ? undefined : origin;
}

/**
 * Media must be fetched by our own pages. Modern browsers say so with Sec-Fetch-Site, which a
 * page cannot forge; older ones only with a Referer, which our pages send to us alone
 * (Referrer-Policy: same-origin). An origin is scheme, host and port: another port is foreign.
 */
export function checkHotlink(facts: HotlinkFacts, options: HotlinkOptions): Decision {
  if (!options.enabled || !facts.isMedia) return ALLOW;
  switch (facts.secFetchSite) {
    case 'same-origin':
      return ALLOW;
    case 'none':
      return options.allowTypedUrl ? ALLOW : refuse('hotlink', 403, 'typed URL (Sec-Fetch-Site: none) for media');
    case 'same-site':
    case 'cross-site':
      return refuse('hotlink', 403, `media requested from a ${facts.secFetchSite} page`);
    case '':
      return checkReferer(facts, options);
    default:
      // Browsers send only the four values above; anything else was made up by a client.
      return refuse('hotlink', 403, `unknown Sec-Fetch-Site "${clip(facts.secFetchSite, 20)}"`);
  }
}

function checkReferer(facts: HotlinkFacts, options: HotlinkOptions): Decision {
  if (facts.referer === '') {
    return options.allowEmptyReferer ? ALLOW : refuse('hotlink', 403, 'media without Sec-Fetch-Site or Referer');
  }
  const from = originOf(facts.referer);
  if (from !== undefined && from === originOf(facts.ownOrigin)) return ALLOW;
  // Only the origin goes in the log: a foreign page's path may hold its own secrets.
  return refuse('hotlink', 403, `foreign Referer ${clip(from ?? 'that is not a URL', 60)}`);
}
