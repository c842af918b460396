import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  blockedUserAgentPatterns,
  checkAddress,
  checkHotlink,
  checkProbing,
  checkUserAgent,
  compileUserAgentMatcher,
  createRefusalLog,
  decide,
  DEFAULT_GUARD_CONFIG,
  explain,
  findAddressInList,
  hasRangeHeader,
  HELMET_OPTIONS,
  HONEYPOT_REFUSAL,
  honeypotPath,
  hstsHeader,
  isHoneypot,
  parseAddressList,
  resolveGuardConfig,
  ROBOTS_TAG,
  ROBOTS_TXT,
  SECURITY_HEADERS,
  signShareLink,
  verifyShareLink,
  addressKey,
  type GuardConfig,
  type RequestFacts,
} from '../src/guard/index.js';

const OWN = 'http://127.0.0.1:8080';
const TOKEN = 'QwErTyUiOpAsD';
const SECRET = 'a server secret of plenty of bytes';

/** A browser on one of our pages fetching a thumbnail: what every family request looks like. */
function facts(overrides: Partial<RequestFacts> = {}): RequestFacts {
  return {
    method: 'GET',
    path: `/${TOKEN}/thumb/Summer/IMG_0001.webp`,
    isMedia: true,
    mediaType: 'image',
    userAgent: BROWSERS.chrome,
    referer: `${OWN}/albums/Summer`,
    origin: '',
    secFetchSite: 'same-origin',
    hasRange: false,
    address: '192.0.2.10',
    ownOrigin: OWN,
    host: '127.0.0.1:8080',
    publicOrigin: undefined,
    ...overrides,
  };
}

function config(overrides: Record<string, unknown>): GuardConfig {
  const result = resolveGuardConfig(overrides);
  assert.ok(result.ok, result.ok ? '' : result.problems.join('\n'));
  return result.config;
}

const BROWSERS = {
  chrome: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  chromeAndroid: 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  chromeIos: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1',
  firefox: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  firefoxAndroid: 'Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0',
  safariIos: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  safariIpad: 'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  safariMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  samsung: 'Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36',
  edge: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
  opera: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0',
} as const;

/** User agents as the clients really send them; patterns that are plain names get a bot-style one. */
const REAL_USER_AGENTS: Record<string, string> = {
  'python-requests': 'python-requests/2.32.3',
  'python-urllib': 'Python-urllib/3.12',
  'Python/': 'Python/3.11 websockets/12.0',
  aiohttp: 'Python/3.12 aiohttp/3.9.5',
  httpx: 'python-httpx/0.27.0',
  curl: 'curl/8.5.0',
  wget: 'Wget/1.21.4',
  'Go-http-client': 'Go-http-client/1.1',
  'libwww-perl': 'libwww-perl/6.72',
  'LWP::Simple': 'LWP::Simple/6.00 libwww-perl/6.05',
  Scrapy: 'Scrapy/2.11.2 (+https://scrapy.org)',
  okhttp: 'okhttp/4.12.0',
  'Java/': 'Java/17.0.9',
  'Apache-HttpClient': 'Apache-HttpClient/4.5.14 (Java/17.0.9)',
  'node-fetch': 'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)',
  axios: 'axios/1.7.2',
  undici: 'undici',
  '^node$': 'node',
  'Deno/': 'Deno/1.44.4',
  'Bun/': 'Bun/1.1.17',
  'Dart/': 'Dart/3.4 (dart:io)',
  GuzzleHttp: 'GuzzleHttp/7',
  colly: 'colly - https://github.com/gocolly/colly/v2',
  HTTrack: 'Mozilla/4.5 (compatible; HTTrack 3.0x; Windows 98)',
  aria2: 'aria2/1.37.0',
  img2dataset: 'Mozilla/5.0 (compatible; img2dataset; +https://github.com/rom1504/img2dataset)',
  GPTBot: 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)',
  'ChatGPT-User': 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; +https://openai.com/bot',
  CCBot: 'CCBot/2.0 (https://commoncrawl.org/faq/)',
  ClaudeBot: 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)',
  Bytespider: 'Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)',
  Amazonbot: 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Amazonbot/0.1; +https://developer.amazon.com/support/amazonbot) Chrome/119.0.6045.214 Safari/537.36',
  'meta-externalagent': 'meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)',
  PetalBot: 'Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; PetalBot;+https://webmaster.petalsearch.com/site/petalbot)',
  AhrefsBot: 'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)',
  SemrushBot: 'Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)',
  MJ12bot: 'Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)',
};

function realUserAgentFor(pattern: string): string {
  const known = REAL_USER_AGENTS[pattern];
  if (known !== undefined) return known;
  // Only plain names may fall back to the usual shape of a crawler's User-Agent.
  assert.match(pattern, /^[\w .:/-]+$/, `add a real User-Agent for the pattern ${pattern} to the test`);
  return `Mozilla/5.0 (compatible; ${pattern}/1.0; +https://example.com/bot.html)`;
}

describe('user agents', () => {
  const options = DEFAULT_GUARD_CONFIG.userAgents;
  const matcher = compileUserAgentMatcher(options);

  it('refuses every pattern of the data file, each with a real User-Agent that contains it', () => {
    const patterns = blockedUserAgentPatterns();
    assert.ok(patterns.length >= 60);
    for (const pattern of patterns) {
      const userAgent = realUserAgentFor(pattern);
      assert.match(userAgent, new RegExp(pattern, 'i'), `the sample for ${pattern} does not contain it`);
      const decision = checkUserAgent(userAgent, options, matcher);
      assert.equal(decision.allow, false, `${userAgent} was allowed`);
      assert.deepEqual(explain(decision).status, 403);
    }
  });

  it('keeps the list in one plain JSON file with a description, as the nginx generator reads it', () => {
    const data = JSON.parse(readFileSync(new URL('../src/guard/blocked-user-agents.json', import.meta.url), 'utf8')) as { description: string; patterns: string[] };
    assert.ok(data.description.length > 50);
    assert.deepEqual([...blockedUserAgentPatterns()], data.patterns);
    for (const name of ['python-requests', 'GPTBot', 'CCBot', 'ClaudeBot', 'Bytespider', 'PerplexityBot', 'meta-externalagent', 'Google-Extended']) {
      assert.ok(data.patterns.includes(name), name);
    }
  });

  it('lets every real browser through', () => {
    for (const [name, userAgent] of Object.entries(BROWSERS)) {
      assert.deepEqual(checkUserAgent(userAgent, options, matcher), { allow: true }, name);
    }
  });

  it('refuses an empty User-Agent unless configured not to', () => {
    assert.equal(checkUserAgent('', options, matcher).allow, false);
    assert.equal(checkUserAgent('   ', options, matcher).allow, false);
    assert.equal(checkUserAgent('', { ...options, blockEmpty: false }, matcher).allow, true);
  });

  it('lets the allow list win over a block, and adds configured patterns to the defaults', () => {
    const custom = config({ userAgents: { allow: ['Uptime-Kuma'], block: ['EvilScraper', '^Mozilla/4\\.0$'] } }).userAgents;
    const customMatcher = compileUserAgentMatcher(custom);
    assert.equal(checkUserAgent('Uptime-Kuma/1.23 axios/1.6', custom, customMatcher).allow, true);
    assert.equal(checkUserAgent('axios/1.6', custom, customMatcher).allow, false);
    assert.equal(checkUserAgent('Mozilla/5.0 evilscraper/2', custom, customMatcher).allow, false);
    assert.equal(checkUserAgent('Mozilla/4.0', custom, customMatcher).allow, false);
    assert.equal(checkUserAgent(BROWSERS.firefox, custom, customMatcher).allow, true);
  });

  it('names the matched text, not the whole header, and can be switched off', () => {
    const decision = checkUserAgent('Mozilla/5.0 (compatible; GPTBot/1.2; +https://openai.com/gptbot)', options, matcher);
    assert.deepEqual(explain(decision), { policy: 'user-agents', reason: 'User-Agent matches blocked "GPTBot"', status: 403 });
    assert.equal(checkUserAgent('curl/8', { ...options, enabled: false }, matcher).allow, true);
  });
});

describe('hotlinks', () => {
  const hotlink = DEFAULT_GUARD_CONFIG.hotlink;
  const rows: [string, Partial<RequestFacts>, Partial<typeof hotlink>, boolean][] = [
    ['same-origin', { secFetchSite: 'same-origin' }, {}, true],
    ['typed URL (none)', { secFetchSite: 'none', referer: '' }, {}, true],
    ['typed URL (none), not allowed', { secFetchSite: 'none', referer: '' }, { allowTypedUrl: false }, false],
    ['same-site page', { secFetchSite: 'same-site', referer: '' }, {}, false],
    ['cross-site page', { secFetchSite: 'cross-site', referer: '' }, {}, false],
    ['made-up Sec-Fetch-Site', { secFetchSite: 'trust-me' }, {}, false],
    ['no Sec-Fetch-Site, own Referer', { secFetchSite: '' }, {}, true],
    ['no Sec-Fetch-Site, own origin with trailing path', { secFetchSite: '', referer: `${OWN}/` }, {}, true],
    ['no Sec-Fetch-Site, foreign Referer', { secFetchSite: '', referer: 'https://forum.example/thread/42?t=1' }, {}, false],
    ['no Sec-Fetch-Site, own host on another port', { secFetchSite: '', referer: 'http://127.0.0.1:9090/albums/Summer' }, {}, false],
    ['no Sec-Fetch-Site, own host over another scheme', { secFetchSite: '', referer: 'https://127.0.0.1:8080/' }, {}, false],
    ['no Sec-Fetch-Site, Referer that is not a URL', { secFetchSite: '', referer: 'nonsense' }, {}, false],
    ['no Sec-Fetch-Site, no Referer', { secFetchSite: '', referer: '' }, {}, false],
    ['no Sec-Fetch-Site, no Referer, allowed', { secFetchSite: '', referer: '' }, { allowEmptyReferer: true }, true],
    ['a page (not media) from another site', { isMedia: false, secFetchSite: 'cross-site', referer: '' }, {}, true],
    ['switched off', { secFetchSite: 'cross-site' }, { enabled: false }, true],
  ];
  for (const [name, overrides, options, allowed] of rows) {
    it(`${allowed ? 'allows' : 'refuses'}: ${name}`, () => {
      const decision = checkHotlink(facts(overrides), { ...hotlink, ...options });
      assert.equal(decision.allow, allowed, JSON.stringify(explain(decision)));
      if (!decision.allow) assert.equal(decision.status, 403);
    });
  }

  it('logs the foreign origin only, never the foreign path', () => {
    const { reason } = explain(checkHotlink(facts({ secFetchSite: '', referer: 'https://forum.example/secret/path?session=abc' }), hotlink));
    assert.equal(reason, 'foreign Referer https://forum.example');
  });
});

describe('probing', () => {
  const probing = DEFAULT_GUARD_CONFIG.probing;
  it('refuses HEAD, Range and Request-Range on images', () => {
    assert.deepEqual(explain(checkProbing(facts({ method: 'HEAD' }), probing)), { policy: 'probing', reason: 'HEAD on an image', status: 403 });
    assert.equal(checkProbing(facts({ hasRange: hasRangeHeader({ range: 'bytes=0-99' }) }), probing).allow, false);
    assert.equal(checkProbing(facts({ hasRange: hasRangeHeader({ 'request-range': 'bytes=0-99' }) }), probing).allow, false);
    assert.equal(checkProbing(facts({ mediaType: undefined, method: 'HEAD' }), probing).allow, false);
  });

  it('lets videos keep HEAD and Range, and pages keep HEAD', () => {
    assert.equal(checkProbing(facts({ mediaType: 'video', method: 'HEAD' }), probing).allow, true);
    assert.equal(checkProbing(facts({ mediaType: 'video', hasRange: true }), probing).allow, true);
    assert.equal(checkProbing(facts({ isMedia: false, mediaType: undefined, method: 'HEAD' }), probing).allow, true);
    assert.equal(hasRangeHeader({ accept: '*/*' }), false);
    assert.equal(checkProbing(facts({ hasRange: true }), { enabled: false }).allow, true);
  });
});

describe('addresses', () => {
  const list = parseAddressList(['10.0.0.0/8', '203.0.113.7', '2001:db8::/32', '::ffff:198.51.100.0/120']);
  const rows: [string, boolean][] = [
    ['10.1.2.3', true],
    ['::ffff:10.1.2.3', true],
    ['203.0.113.7', true],
    ['203.0.113.8', false],
    ['11.0.0.1', false],
    ['2001:db8:1::5', true],
    ['2001:db9::1', false],
    ['198.51.100.9', true],
    ['::ffff:198.51.100.9', true],
    ['not an address', false],
  ];
  for (const [address, blocked] of rows) {
    it(`${blocked ? 'refuses' : 'allows'} ${address}`, () => {
      const decision = checkAddress(facts({ address }), list);
      assert.equal(decision.allow, !blocked);
      if (!decision.allow) assert.equal(decision.status, 403);
    });
  }

  it('keeps /healthz open to monitors on a blocked address', () => {
    assert.equal(checkAddress(facts({ address: '10.9.9.9', path: '/healthz', isMedia: false }), list).allow, true);
  });

  it('names the range that matched, and rejects entries that are not addresses', () => {
    assert.equal(findAddressInList('10.200.0.1', list), '10.0.0.0/8');
    for (const bad of ['10', '116.204.', '1.2.3.4/33', '0x7f.1', '10.0.0.0/8/8', 'example.org']) {
      assert.throws(() => parseAddressList([bad]), new RegExp(`address ${JSON.stringify(bad).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: expected`));
    }
  });

  it('counts IPv6 per /64 and IPv4-mapped addresses as IPv4 in the limiters', () => {
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), addressKey('2001:db8:1:2:bbbb::2'));
    assert.notEqual(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:3::1'));
    assert.equal(addressKey('::ffff:192.0.2.1'), '192.0.2.1');
  });
});

describe('decide: the stateless policies in order', () => {
  const guard = config({ addresses: { block: ['10.0.0.0/8'] } });

  it('lets a family browser through, on pages and media', () => {
    assert.deepEqual(decide(facts(), guard), { allow: true });
    assert.deepEqual(decide(facts({ isMedia: false, mediaType: undefined, path: '/albums/Summer', secFetchSite: 'none', referer: '' }), guard), { allow: true });
  });

  it('returns the first refusal: addresses → user agent → probing → hotlink', () => {
    const everything = facts({ address: '10.0.0.1', userAgent: 'curl/8.5.0', method: 'HEAD', secFetchSite: 'cross-site' });
    assert.equal(explain(decide(everything, guard)).policy, 'addresses');
    assert.equal(explain(decide({ ...everything, address: '192.0.2.1' }, guard)).policy, 'user-agents');
    assert.equal(explain(decide({ ...everything, address: '192.0.2.1', userAgent: BROWSERS.edge }, guard)).policy, 'probing');
    assert.equal(explain(decide({ ...everything, address: '192.0.2.1', userAgent: BROWSERS.edge, method: 'GET' }, guard)).policy, 'hotlink');
  });

  it('refuses scripting clients on pages too, but not on /robots.txt or /healthz', () => {
    const page = facts({ isMedia: false, mediaType: undefined, path: '/', userAgent: 'python-requests/2.32' });
    assert.equal(decide(page, guard).allow, false);
    assert.equal(decide({ ...page, path: '/robots.txt' }, guard).allow, true);
    assert.equal(decide({ ...page, path: '/healthz', address: '10.0.0.1' }, guard).allow, true);
    assert.equal(decide({ ...page, path: '/robots.txt', address: '10.0.0.1' }, guard).allow, false);
  });

  it('never puts the token, the path or a cookie into the log line', () => {
    const refused = [
      facts({ address: '10.0.0.1' }),
      facts({ userAgent: `curl/8 ${TOKEN}` }),
      facts({ method: 'HEAD' }),
      facts({ secFetchSite: '', referer: `https://evil.example/${TOKEN}?cookie=keepsake.sess` }),
    ];
    for (const request of refused) {
      const line = JSON.stringify(explain(decide(request, guard)));
      assert.ok(!line.includes(TOKEN) && !line.includes('cookie') && !line.includes('IMG_0001'), line);
    }
    assert.deepEqual(explain({ allow: true }), { policy: null, reason: 'allowed' });
  });
});

describe('configuration', () => {
  it('fills every default from nothing, and keeps given values', () => {
    assert.deepEqual(resolveGuardConfig(undefined), { ok: true, config: DEFAULT_GUARD_CONFIG });
    assert.deepEqual(resolveGuardConfig({}), { ok: true, config: DEFAULT_GUARD_CONFIG });
    const custom = config({ hotlink: { allowTypedUrl: false }, rates: { perSession: { burst: 100 } } });
    assert.equal(custom.hotlink.allowTypedUrl, false);
    assert.equal(custom.hotlink.allowEmptyReferer, false);
    assert.equal(custom.rates.perSession.burst, 100);
    assert.equal(custom.rates.perSession.perSecond, DEFAULT_GUARD_CONFIG.rates.perSession.perSecond);
    assert.ok(Object.isFrozen(DEFAULT_GUARD_CONFIG.rates.perSession));
  });

  it('has every policy on by default', () => {
    const { hotlink, probing, userAgents, rates, login, honeypot } = DEFAULT_GUARD_CONFIG;
    assert.ok(hotlink.enabled && probing.enabled && userAgents.enabled && userAgents.blockEmpty && rates.enabled && rates.tripwire.enabled && login.enabled && honeypot.enabled);
    assert.equal(hotlink.allowTypedUrl, true);
    assert.equal(hotlink.allowEmptyReferer, false);
  });

  it('names the setting, what was expected and what came, for every problem at once', () => {
    const result = resolveGuardConfig({
      hotlink: { allowTypedUrl: 'yes', allowTypedURL: true },
      rates: { perSession: { burst: 0 } },
      addresses: { block: ['10.0.0.0/8', '116.204.'] },
      userAgents: { block: ['(unclosed'] },
      login: 5,
    });
    assert.equal(result.ok, false);
    assert.deepEqual(result.ok ? [] : result.problems, [
      'guard.hotlink.allowTypedUrl: expected true or false, received "yes"',
      'guard.hotlink: unknown setting "allowTypedURL"; known settings: enabled, allowTypedUrl, allowEmptyReferer',
      'guard.userAgents.block[0]: expected a regular expression that does not match an empty User-Agent, received "(unclosed"',
      'guard.addresses.block[1]: expected an IPv4 or IPv6 address or CIDR range, such as 203.0.113.7 or 2001:db8::/32, received "116.204."',
      'guard.rates.perSession.burst: expected an integer from 1 to 1000000, received 0',
      'guard.login: expected an object, received 5',
    ]);
    assert.deepEqual(resolveGuardConfig([]), { ok: false, problems: ['guard: expected an object, received a list'] });
  });

  it('refuses a block pattern that would match every client', () => {
    const result = resolveGuardConfig({ userAgents: { block: ['.*'] } });
    assert.equal(result.ok, false);
  });
});

describe('honeypot', () => {
  it('is a plausible original under the token, the same each time, and recognised', () => {
    const path = honeypotPath(TOKEN, SECRET);
    assert.match(path, /^\/QwErTyUiOpAsD\/original\/[A-Z][a-z]+%20[A-Z][a-z]+%2020[12]\d\/IMG_\d{4}\.jpg$/);
    assert.equal(honeypotPath(TOKEN, SECRET), path);
    assert.ok(isHoneypot(path, TOKEN, SECRET));
    assert.ok(isHoneypot(decodeURIComponent(path), TOKEN, SECRET), 'a decoded path is recognised too');
    assert.deepEqual(explain(HONEYPOT_REFUSAL), { policy: 'honeypot', reason: 'honeypot link requested: a scraper walking the page', status: 404 });
  });

  it('differs per token and per secret, and nothing else matches', () => {
    const other = 'ZxCvBnMaSdFgHj';
    assert.notEqual(honeypotPath(other, SECRET).slice(other.length + 1), honeypotPath(TOKEN, SECRET).slice(TOKEN.length + 1));
    assert.notEqual(honeypotPath(TOKEN, `${SECRET}!`), honeypotPath(TOKEN, SECRET));
    assert.equal(isHoneypot(honeypotPath(other, SECRET), TOKEN, SECRET), false);
    assert.equal(isHoneypot(`/${TOKEN}/original/Summer/IMG_0001.jpg`, TOKEN, SECRET), false);
    assert.equal(isHoneypot(`/${TOKEN}/original/%E0%A4%A/IMG_1.jpg`, TOKEN, SECRET), false);
    assert.equal(isHoneypot(honeypotPath(TOKEN, SECRET).replace('/original/', '/thumb/'), TOKEN, SECRET), false);
  });

  it('refuses a weak secret', () => {
    assert.throws(() => honeypotPath(TOKEN, 'short'), /secret: expected at least 16 bytes/);
  });
});

describe('share links', () => {
  const now = Date.parse('2026-06-01T12:00:00Z');
  const grant = { id: 'sh_1', album: 'Summer 2024/Beach', expiresAt: now + 86_400_000, canDownloadOriginals: false, uses: 3 };

  it('round-trips what it grants', () => {
    const path = signShareLink(grant, SECRET);
    assert.match(path, /^\/s\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(verifyShareLink(path, SECRET, now), { ok: true, share: grant });
    const { uses: _uses, ...unlimited } = grant;
    assert.deepEqual(verifyShareLink(signShareLink(unlimited, SECRET), SECRET, now), { ok: true, share: unlimited });
  });

  it('refuses a changed payload, a changed signature and another secret as tampered', () => {
    const path = signShareLink(grant, SECRET);
    const [payload = '', signature = ''] = path.slice(3).split('.');
    const longer = Buffer.from(JSON.stringify({ v: 1, i: 'sh_1', a: 'Summer 2024/Beach', e: grant.expiresAt * 2, o: true })).toString('base64url');
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    assert.deepEqual(verifyShareLink(`/s/${longer}.${signature}`, SECRET, now), { ok: false, reason: 'tampered' });
    assert.deepEqual(verifyShareLink(`/s/${flip(payload, 5)}.${signature}`, SECRET, now), { ok: false, reason: 'tampered' });
    assert.deepEqual(verifyShareLink(`/s/${payload}.${flip(signature, 10)}`, SECRET, now), { ok: false, reason: 'tampered' });
    assert.deepEqual(verifyShareLink(path, `${SECRET} but another`, now), { ok: false, reason: 'tampered' });
  });

  it('refuses a link at and after its expiry', () => {
    const path = signShareLink(grant, SECRET);
    assert.equal(verifyShareLink(path, SECRET, grant.expiresAt - 1).ok, true);
    assert.deepEqual(verifyShareLink(path, SECRET, grant.expiresAt), { ok: false, reason: 'expired' });
  });

  it('calls anything that is not a share link malformed', () => {
    for (const path of ['/s/', '/s/abc', '/s/abc.def', '/albums/x', `/s/${'a'.repeat(5000)}.${'b'.repeat(43)}`, `${signShareLink(grant, SECRET)}/`]) {
      assert.deepEqual(verifyShareLink(path, SECRET, now), { ok: false, reason: 'malformed' }, path);
    }
  });

  it('names the bad argument when signing', () => {
    assert.throws(() => signShareLink({ ...grant, album: '' }, SECRET), /album: expected a non-empty album path/);
    assert.throws(() => signShareLink({ ...grant, uses: 0 }, SECRET), /uses: expected a positive integer, received 0/);
    assert.throws(() => signShareLink({ ...grant, expiresAt: Number.NaN }, SECRET), /expiresAt: expected epoch milliseconds/);
    assert.throws(() => signShareLink(grant, ''), /secret: expected at least 16 bytes/);
  });
});

describe('headers and crawlers as data', () => {
  it('tells crawlers no, in one place', () => {
    assert.equal(ROBOTS_TAG, 'noindex, nofollow, noimageindex');
    assert.equal(ROBOTS_TXT, 'User-agent: *\nDisallow: /\n');
    assert.equal(SECURITY_HEADERS['X-Robots-Tag'], ROBOTS_TAG);
  });

  it('frames nothing, sniffs nothing, leaks no Referer and sets HSTS over TLS only', () => {
    assert.match(SECURITY_HEADERS['Content-Security-Policy'] ?? '', /default-src 'self'.*frame-ancestors 'none'/);
    assert.equal(SECURITY_HEADERS['X-Frame-Options'], 'DENY');
    assert.equal(SECURITY_HEADERS['X-Content-Type-Options'], 'nosniff');
    assert.equal(SECURITY_HEADERS['Referrer-Policy'], 'same-origin');
    assert.match(SECURITY_HEADERS['Permissions-Policy'] ?? '', /camera=\(\)/);
    assert.equal(HELMET_OPTIONS.referrerPolicy.policy, 'same-origin');
    assert.equal(HELMET_OPTIONS.xFrameOptions.action, 'deny');
    assert.equal(hstsHeader(false), undefined);
    assert.equal(hstsHeader(true), 'max-age=31536000; includeSubDomains');
  });
});

describe('refusal log', () => {
  it('counts refusals by policy since a time, ignores allowed requests, and forgets old minutes', () => {
    const log = createRefusalLog();
    const start = Date.parse('2026-06-01T00:00:00Z');
    const hotlink = checkHotlink(facts({ secFetchSite: 'cross-site' }), DEFAULT_GUARD_CONFIG.hotlink);
    log.record(hotlink, start);
    log.record(hotlink, start + 1000);
    log.record(checkProbing(facts({ method: 'HEAD' }), DEFAULT_GUARD_CONFIG.probing), start + 3_600_000);
    log.record({ allow: true }, start + 3_600_000);
    assert.deepEqual(log.summary(start), { since: start, total: 3, byPolicy: { hotlink: 2, probing: 1 } });
    assert.deepEqual(log.summary(start + 3_600_000).byPolicy, { probing: 1 });
    log.record(hotlink, start + 26 * 3_600_000);
    assert.deepEqual(log.summary(0).byPolicy, { probing: 1, hotlink: 1 }, 'minutes older than 25 hours are gone');
  });
});
