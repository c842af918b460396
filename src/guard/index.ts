/*
 * The guard: hotlink and scraper policies as pure decisions over request facts, the stateful
 * limiters (media budgets, login throttle), the honeypot, signed share links and the security
 * headers as data. Only src/http turns these into Koa middleware.
 */
export {
  addressKey,
  findAddressInList,
  isAddressInList,
  isAddressOrRange,
  parseAddressList,
  type AddressList,
} from './addresses.js';
export { DEFAULT_GUARD_CONFIG, guardConfigSchema, guardConfigSection, resolveGuardConfig, type GuardConfig, type GuardConfigResult } from './config.js';
export { clientAddressOf, compileProxyTrust, isTrustedPeer, trustProxySection, type ProxyTrust, type TrustedProxies } from './proxies.js';
export { ROBOTS_TAG, ROBOTS_TXT } from './crawlers.js';
export { checkAddress, compileGuard, decide, POLICY_ORDER, type CompiledGuard } from './decide.js';
export {
  ALLOW,
  explain,
  hasRangeHeader,
  HEALTH_PATH,
  POLICY_NAMES,
  ROBOTS_PATH,
  type Allowed,
  type Decision,
  type Explanation,
  type PolicyName,
  type Refusal,
  type RequestFacts,
} from './facts.js';
export { HONEYPOT_REFUSAL, honeypotPath, isHoneypot } from './honeypot.js';
export { checkHotlink, type HotlinkOptions } from './hotlink.js';
export { memoryCounters, sharedCounters, SHARED_COUNTERS_TABLE, type Counters } from './counters.js';
export { createLoginThrottle, loginDelaySeconds, type LoginCheck, type LoginThrottle } from './login-throttle.js';
export { createMediaBudget, type BudgetDecision, type BudgetRefusal, type MediaBudget } from './media-budget.js';
export { createMissLimiter, type MissLimiter, type MissTicket } from './miss-limiter.js';
export { checkProbing, type ProbingOptions } from './probing.js';
export { createRefusalLog, type RefusalLog, type RefusalLogOptions, type RefusalSummary } from './refusal-log.js';
export {
  CONTENT_SECURITY_POLICY_DIRECTIVES,
  contentSecurityPolicyHeader,
  HELMET_OPTIONS,
  HSTS_MAX_AGE_SECONDS,
  hstsHeader,
  PERMISSIONS_POLICY,
  SECURITY_HEADERS,
} from './security-headers.js';
export { SHARE_PATH_PREFIX, signShareLink, verifyShareLink, type ShareGrant, type ShareLinkCheck } from './share-links.js';
export {
  BLOCKED_USER_AGENTS_FILE,
  blockedUserAgentPatterns,
  checkUserAgent,
  compileUserAgentMatcher,
  userAgentPolicyTag,
  type UserAgentMatcher,
  type UserAgentOptions,
} from './user-agents.js';
