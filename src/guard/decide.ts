import { findAddressInList, parseAddressList, type AddressList } from './addresses.js';
import type { GuardConfig } from './config.js';
import { ALLOW, clip, HEALTH_PATH, ROBOTS_PATH, refuse, type Decision, type PolicyName, type RequestFacts } from './facts.js';
import { checkHotlink } from './hotlink.js';
import { checkProbing } from './probing.js';
import { checkUserAgent, compileUserAgentMatcher, type UserAgentMatcher } from './user-agents.js';

/** What the stateless policies need prepared once per configuration, not per request. */
export interface CompiledGuard {
  readonly blockedAddresses: AddressList;
  readonly userAgents: UserAgentMatcher;
}

const compiled = new WeakMap<GuardConfig, CompiledGuard>();

/** Parses the address list and builds the user-agent matcher, once per (frozen) config object. */
export function compileGuard(config: GuardConfig): CompiledGuard {
  let state = compiled.get(config);
  if (state === undefined) {
    state = {
      blockedAddresses: parseAddressList(config.addresses.block),
      userAgents: compileUserAgentMatcher(config.userAgents),
    };
    compiled.set(config, state);
  }
  return state;
}

/**
 * With a public URL configured, a request for any other Host is refused: a page on another site
 * that re-points its own name at this box (DNS rebinding) gets nothing. The health check stays
 * open to monitors that ask by address.
 */
export function checkHost(facts: Pick<RequestFacts, 'path' | 'host' | 'publicOrigin'>): Decision {
  if (facts.publicOrigin === undefined || facts.path === HEALTH_PATH) return ALLOW;
  const expected = new URL(facts.publicOrigin);
  return sameHost(facts.host, expected) ? ALLOW : refuse('host', 403, `Host ${clip(facts.host)} is not ${expected.host}`);
}

/** A Host header against the public URL's, as URLs compare them: case and a default port do not matter. */
function sameHost(host: string, expected: URL): boolean {
  try {
    return host !== '' && new URL(`${expected.protocol}//${host}`).host === expected.host;
  } catch {
    return false;
  }
}

/** Blocked addresses get nothing, except the health check that monitors need. */
export function checkAddress(facts: Pick<RequestFacts, 'path' | 'address'>, list: AddressList): Decision {
  if (facts.path === HEALTH_PATH) return ALLOW;
  const range = findAddressInList(facts.address, list);
  return range === undefined ? ALLOW : refuse('addresses', 403, `address in blocked range ${range}`);
}

type Policy = (facts: RequestFacts, config: GuardConfig, state: CompiledGuard) => Decision;

/**
 * The order is fixed and cheapest-to-most-specific: which site is asked for, who is asking
 * (address, then what they call themselves) before how they ask (HEAD/Range) and from where (hotlink). The first refusal wins,
 * so the log names the most basic reason.
 */
export const POLICY_ORDER: readonly (readonly [PolicyName, Policy])[] = [
  ['host', (facts) => checkHost(facts)],
  ['addresses', (facts, _config, state) => checkAddress(facts, state.blockedAddresses)],
  [
    'user-agents',
    (facts, config, state) =>
      facts.path === HEALTH_PATH || facts.path === ROBOTS_PATH ? ALLOW : checkUserAgent(facts.userAgent, config.userAgents, state.userAgents),
  ],
  ['probing', (facts, config) => checkProbing(facts, config.probing)],
  ['hotlink', (facts, config) => checkHotlink(facts, config.hotlink)],
];

/**
 * Runs the stateless policies over one request: host → addresses → user agent → probing → hotlink.
 * Rates, the login throttle and the honeypot keep state and are asked separately, after this.
 */
export function decide(facts: RequestFacts, config: GuardConfig, state: CompiledGuard = compileGuard(config)): Decision {
  for (const [, policy] of POLICY_ORDER) {
    const decision = policy(facts, config, state);
    if (!decision.allow) return decision;
  }
  return ALLOW;
}
