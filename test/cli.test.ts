import assert from 'node:assert/strict';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runKeepsake } from './helpers/cli.js';
import { makeMediaRoot, tempDir } from './helpers/fixtures.js';

async function adminEnv(): Promise<Record<string, string>> {
  const mediaRoot = await tempDir('keepsake-media-');
  await makeMediaRoot(mediaRoot);
  return { KEEPSAKE_MEDIA_ROOT: mediaRoot, KEEPSAKE_STATE_DIR: await tempDir('keepsake-state-') };
}

describe('keepsake key add | list | remove', () => {
  it('adds keys with patterns, options and a generated password shown once, and never lists secrets', async () => {
    const env = await adminEnv();
    const added = await runKeepsake(['key', 'add', 'friends', '--albums', 'Summer 2024,Kids/*', '--no-originals', '--expires', '2099-01-01'], env);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /Added key "friends": albums Summer 2024, Kids\/\*; originals not allowed; expires 2099-01-01/);
    const password = /Password \(shown only this once\): (\S+)/.exec(added.stdout)?.[1];
    assert.ok(password, added.stdout);

    const given = await runKeepsake(['key', 'add', 'family', '--password', 'our very own password'], env);
    assert.equal(given.code, 0, given.stderr);
    assert.doesNotMatch(given.stdout, /our very own password/, 'a chosen password is not echoed');

    const listed = await runKeepsake(['key', 'list'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^LABEL\s+ALBUMS\s+ORIGINALS\s+PLACES\s+EXPIRES\s+SESSIONS$/m);
    assert.match(listed.stdout, /^family\s+\*\s+yes\s+none\s+never\s+0$/m);
    assert.match(listed.stdout, /^friends\s+Summer 2024, Kids\/\*\s+no\s+none\s+2099-01-01/m);
    assert.doesNotMatch(listed.stdout, new RegExp(password.replace(/-/g, '\\-')));
    assert.doesNotMatch(listed.stdout, /scrypt|\$/, 'no hashes');

    const view = path.join(env.KEEPSAKE_STATE_DIR!, 'views');
    assert.ok((await readdir(view)).length === 2, 'a view per key');

    const removed = await runKeepsake(['key', 'remove', 'friends'], env);
    assert.equal(removed.code, 0, removed.stderr);
    const after = await runKeepsake(['key', 'list'], env);
    assert.doesNotMatch(after.stdout, /friends/);
    assert.equal((await readdir(view)).length, 1, 'the removed key\'s view is gone');
    await lstat(env.KEEPSAKE_MEDIA_ROOT!);
  });

  it('explains bad input and exits non-zero', async () => {
    const env = await adminEnv();
    const cases: [string[], RegExp][] = [
      [['key', 'add'], /exactly one label/],
      [['key', 'add', 'x', '--password', 'short'], /password: expected 8 to 1024 characters, got 5/],
      [['key', 'add', 'x', '--albums', '../etc'], /album pattern/],
      [['key', 'add', 'x', '--expires', 'someday'], /--expires "someday"/],
      [['key', 'add', 'x', '--expires', '2001-01-01'], /in the future/],
      [['key', 'remove', 'nobody'], /no key labelled "nobody"/],
      [['key', 'add', 'x', '--colour', 'blue'], /colour/],
      [['frobnicate'], /unknown command "frobnicate"/],
    ];
    // None of these changes anything: they may run at once.
    const results = await Promise.all(cases.map(([args]) => runKeepsake(args, env)));
    for (const [index, [args, message]] of cases.entries()) {
      const result = results[index]!;
      assert.notEqual(result.code, 0, args.join(' '));
      assert.match(result.stderr, message, args.join(' '));
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace for a user mistake');
    }
    const duplicate = await runKeepsake(['key', 'add', 'dup'], env);
    assert.equal(duplicate.code, 0);
    const again = await runKeepsake(['key', 'add', 'dup'], env);
    assert.match(again.stderr, /already exists/);
  });

  it('a bad setting stops with one line naming it', async () => {
    const env = await adminEnv();
    const result = await runKeepsake(['serve'], { ...env, KEEPSAKE_PORT: 'ninety' });
    assert.equal(result.code, 2);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, /KEEPSAKE_PORT="ninety": expected an integer from 0 to 65535/);
  });
});
