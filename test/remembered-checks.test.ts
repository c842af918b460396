import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { boundedMemo } from '../src/bounded-memo.js';
import { addressKey, isAddressInList, parseAddressList } from '../src/guard/addresses.js';
import { createCookieSigner } from '../src/http/cookie-keys.js';
import { createLinkCookies } from '../src/http/link-cookie.js';
import { linkCookieValue } from '../src/media-contract.js';

/*
 * Checks a request repeats on every photo (the cookie's signature, the link cookie's proof, the
 * client's address) are remembered; what is remembered must never change an answer.
 */

describe('boundedMemo', () => {
  it('computes each key once while it is kept, and forgets the oldest past the limit', () => {
    const computed: string[] = [];
    const memo = boundedMemo((key) => (computed.push(key), key.toUpperCase()), { limit: 2 });
    assert.equal(memo('a'), 'A');
    assert.equal(memo('a'), 'A');
    memo('b');
    memo('c'); // 'a' goes
    assert.equal(memo('a'), 'A');
    assert.deepEqual(computed, ['a', 'b', 'c', 'a']);
  });

  it('keeps only the answers `keep` allows, and no key longer than maxKeyLength', () => {
    let calls = 0;
    const memo = boundedMemo((key) => (calls++, key.length), { limit: 10, maxKeyLength: 4, keep: (length) => length > 1 });
    memo('x');
    memo('x');
    assert.equal(calls, 2, 'an answer not kept is computed again');
    memo('long key');
    memo('long key');
    assert.equal(calls, 4, 'a key past maxKeyLength is computed again');
    memo('abc');
    memo('abc');
    assert.equal(calls, 5);
  });

  it('refuses a limit that is not a whole number of at least one', () => {
    assert.throws(() => boundedMemo((key) => key, { limit: 0 }), /limit: expected a whole number ≥ 1, received 0/);
  });
});

describe('the cookie signer, with checked cookies remembered', () => {
  const keygripSign = (data: string, key: string) => createHmac('sha1', key).update(data).digest('base64url');

  it('accepts a good signature again and again, and still refuses a wrong one for the same cookie', () => {
    const signer = createCookieSigner(['current key', 'older key']);
    const data = 'keepsake.sid=abc';
    const good = keygripSign(data, 'current key');
    assert.equal(signer.index(data, good), 0);
    assert.equal(signer.index(data, good), 0, 'remembered');
    const wrong = `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`;
    assert.equal(signer.index(data, wrong), -1, 'one letter off');
    assert.equal(signer.index('keepsake.sid=abd', good), -1, 'the same signature on another cookie');
    assert.equal(signer.index(data, keygripSign(data, 'older key')), 1, 'an older key is still told apart');
    assert.equal(signer.verify(data, 'AAAAAAAAAAAAAAAAAAAAAAAAAAA'), false);
    assert.equal(signer.verify(data, 'AAAAAAAAAAAAAAAAAAAAAAAAAAA'), false, 'a refusal is not remembered as anything else');
  });

  it('never lets a newline join two halves into a remembered pair', () => {
    const signer = createCookieSigner(['k']);
    const good = keygripSign('a\nb', 'k');
    assert.equal(signer.index('a\nb', good), 0);
    assert.equal(signer.index('a', `b\n${good}`), -1);
  });

  it('signers with different keys do not share what they remember', () => {
    const data = 'keepsake.sid=xyz';
    const digest = keygripSign(data, 'one');
    assert.equal(createCookieSigner(['one']).index(data, digest), 0);
    assert.equal(createCookieSigner(['two']).index(data, digest), -1);
  });
});

describe('link cookie proofs, remembered', () => {
  it('are the contract’s value for each token and User-Agent, asked once or many times', () => {
    const binding = { secret: 's'.repeat(32), policy: 'p1' };
    const cookies = createLinkCookies(binding);
    for (let round = 0; round < 2; round++) {
      assert.equal(cookies.valueFor('abcdefghijk', 'Firefox'), linkCookieValue({ token: 'abcdefghijk', userAgent: 'Firefox', ...binding }));
      assert.equal(cookies.valueFor('abcdefghijk', 'Chrome'), linkCookieValue({ token: 'abcdefghijk', userAgent: 'Chrome', ...binding }));
      assert.equal(cookies.valueFor('abcdefghijl', 'Firefox'), linkCookieValue({ token: 'abcdefghijl', userAgent: 'Firefox', ...binding }));
    }
    assert.notEqual(cookies.valueFor('abcdefghijk', 'Firefox'), cookies.valueFor('abcdefghijk', 'Chrome'));
    assert.notEqual(createLinkCookies({ ...binding, policy: 'p2' }).valueFor('abcdefghijk', 'Firefox'), cookies.valueFor('abcdefghijk', 'Firefox'), 'another policy, another proof');
  });
});

describe('client addresses, parsed once', () => {
  it('give the same answers the second time', () => {
    const list = parseAddressList(['192.0.2.0/24', '2001:db8::/32']);
    for (let round = 0; round < 2; round++) {
      assert.equal(isAddressInList('192.0.2.9', list), true);
      assert.equal(isAddressInList('::ffff:192.0.2.9', list), true);
      assert.equal(isAddressInList('198.51.100.1', list), false);
      assert.equal(isAddressInList('not an address', list), false);
      assert.equal(addressKey('::ffff:192.0.2.1'), '192.0.2.1');
      assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
      assert.equal(addressKey('2001:db8:1:2:aaaa::1', 48), '2001:db8:1::/48');
      assert.equal(addressKey('2001:db8:1:2:aaaa::1', 56), '2001:db8:1::/56');
      assert.equal(addressKey('2001:db8:1:3ff:aaaa::1', 56), '2001:db8:1:300::/56');
    }
  });
});
