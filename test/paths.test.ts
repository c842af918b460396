import assert from 'node:assert/strict';
import { mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PathRejectedError, resolveInside, splitRequestPath } from '../src/paths.js';
import { tempDir } from './helpers/fixtures.js';

describe('splitRequestPath', () => {
  it('decodes exactly once and keeps ordinary names', () => {
    assert.deepEqual(splitRequestPath('Summer%202024/beach.jpg'), ['Summer 2024', 'beach.jpg']);
    // %252e decodes once to the literal text "%2e", a harmless (if odd) file name, never to "."
    assert.deepEqual(splitRequestPath('a/%252e%252e/b.jpg'), ['a', '%2e%2e', 'b.jpg']);
  });

  const hostile: [string, string][] = [
    ['../etc/passwd', 'plain ..'],
    ['a/../../etc/passwd', 'nested ..'],
    ['%2e%2e/etc/passwd', 'encoded ..'],
    ['%2E%2E%2Fetc%2Fpasswd', 'encoded .. and slashes'],
    ['a/%2e/b.jpg', 'encoded .'],
    ['a\\..\\b.jpg', 'backslashes'],
    ['a%5C..%5Cb.jpg', 'encoded backslashes'],
    ['a/b.jpg%00.png', 'NUL byte'],
    ['a//b.jpg', 'empty segment'],
    ['.hidden/x.jpg', 'hidden folder'],
    ['a/.x.jpg', 'dot-file'],
    ['%E0%A4%A', 'malformed encoding'],
    ['', 'empty'],
  ];
  for (const [input, label] of hostile) {
    it(`rejects ${label}: ${JSON.stringify(input)}`, () => {
      assert.throws(() => splitRequestPath(input), PathRejectedError);
    });
  }
});

describe('resolveInside', () => {
  it('follows links that stay inside the allowed root and refuses those that leave it', async () => {
    const base = await realpath(await tempDir());
    const root = path.join(base, 'media');
    await mkdir(path.join(root, 'Album'), { recursive: true });
    await writeFile(path.join(root, 'Album', 'a.jpg'), 'x');
    await mkdir(path.join(root, '.private'));
    await writeFile(path.join(root, '.private', 'p.jpg'), 'x');
    await symlink('/etc', path.join(root, 'Album', 'etc'));
    await symlink(path.join(root, 'Album', 'a.jpg'), path.join(root, 'Album', 'alias.jpg'));
    await symlink(path.join(root, '.private', 'p.jpg'), path.join(root, 'Album', 'sneaky.jpg'));
    const view = path.join(base, 'view');
    await symlink(path.join(root, 'Album'), view);

    assert.equal(await resolveInside(view, 'a.jpg', [root]), path.join(root, 'Album', 'a.jpg'));
    assert.equal(await resolveInside(view, 'alias.jpg', [root]), path.join(root, 'Album', 'a.jpg'));
    await assert.rejects(resolveInside(view, 'etc/passwd', [root]), PathRejectedError);
    await assert.rejects(resolveInside(view, 'sneaky.jpg', [root]), PathRejectedError, 'a link to a hidden file is refused');
    await assert.rejects(resolveInside(view, 'missing.jpg', [root]), PathRejectedError);
    await assert.rejects(resolveInside(base, '/etc/passwd', [root]), PathRejectedError, 'absolute paths stay under the base');
  });
});
