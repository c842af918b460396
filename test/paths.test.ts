import assert from 'node:assert/strict';
import { mkdir, readFile, realpath, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { decodeSegments, parseMediaUrl } from '../src/media-contract.js';
import { openVerified, PathRejectedError } from '../src/paths.js';
import { tempDir } from './helpers/fixtures.js';

describe('decodeSegments (the media contract decodes a path once)', () => {
  it('decodes exactly once and keeps ordinary names', () => {
    assert.deepEqual(decodeSegments('Summer%202024/beach.jpg'), ['Summer 2024', 'beach.jpg']);
    // %252e decodes once to the literal text "%2e", a harmless (if odd) file name, never to "."
    assert.deepEqual(decodeSegments('a/%252e%252e/b.jpg'), ['a', '%2e%2e', 'b.jpg']);
  });

  const hostile: [string, string][] = [
    ['../etc/passwd', 'plain ..'],
    ['a/../../etc/passwd', 'nested ..'],
    ['%2e%2e/etc/passwd', 'encoded ..'],
    ['%2E%2E%2Fetc%2Fpasswd', 'encoded .. and slashes'],
    ['a%2Fb.jpg', 'an encoded slash inside a name'],
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
      assert.equal(decodeSegments(input), undefined);
      assert.equal(parseMediaUrl(`/AbCdEfGhIjKl/original/${input}`), undefined);
    });
  }

  it('parses a media URL into token, variant, album and name', () => {
    assert.deepEqual(parseMediaUrl('/AbCdEfGhIjKl/thumb/Summer%202024/Day%20Two/pier.jpg.0123456789ab.webp'), {
      token: 'AbCdEfGhIjKl', variant: 'thumb', albumPath: 'Summer 2024/Day Two', name: 'pier.jpg.0123456789ab.webp',
    });
    assert.equal(parseMediaUrl('/AbCdEfGhIj/original/a/b.jpg'), undefined, 'a token of 10 letters is no token');
    assert.equal(parseMediaUrl('/api/albums/x'), undefined);
  });
});

describe('openVerified', () => {
  async function tree() {
    const base = await realpath(await tempDir());
    const root = path.join(base, 'media');
    await mkdir(path.join(root, 'Album', 'Deeper'), { recursive: true });
    await mkdir(path.join(root, 'Other'), { recursive: true });
    await mkdir(path.join(root, '.private'), { recursive: true });
    await writeFile(path.join(root, 'Album', 'a.jpg'), 'album photo');
    await writeFile(path.join(root, 'Album', 'Deeper', 'd.jpg'), 'deeper photo');
    await writeFile(path.join(root, 'Other', 'o.jpg'), 'other album');
    await writeFile(path.join(root, '.private', 'p.jpg'), 'hidden');
    await writeFile(path.join(base, 'secret.db'), 'not media');
    return { base, root, album: path.join(root, 'Album') };
  }

  it('opens a file, or a link that stays inside the folder it must lie in, and reads it from the checked descriptor', async () => {
    const { root, album } = await tree();
    await symlink('Deeper/d.jpg', path.join(album, 'alias.jpg'));
    const file = await openVerified(root, ['Album', 'a.jpg'], album);
    assert.equal(file.realPath, path.join(album, 'a.jpg'));
    assert.equal((await file.handle.readFile()).toString(), 'album photo');
    await file.handle.close();
    const alias = await openVerified(root, ['Album', 'alias.jpg'], album);
    assert.equal(alias.realPath, path.join(album, 'Deeper', 'd.jpg'));
    await alias.handle.close();
  });

  it('refuses what really lies elsewhere: another album, outside the root, a hidden file, a folder, a FIFO, a bad name', async () => {
    const { base, root, album } = await tree();
    await symlink('../Other/o.jpg', path.join(album, 'crossing.jpg'));
    await symlink(path.join(base, 'secret.db'), path.join(album, 'outside.jpg'));
    await symlink('../.private/p.jpg', path.join(album, 'sneaky.jpg'));
    execFileSync('mkfifo', [path.join(album, 'pipe.jpg')]);
    for (const name of ['crossing.jpg', 'outside.jpg', 'sneaky.jpg', 'Deeper', 'pipe.jpg', 'missing.jpg']) {
      await assert.rejects(openVerified(root, ['Album', name], album), PathRejectedError, name);
    }
    for (const segments of [['Album', '..', 'Other', 'o.jpg'], ['Album', '.hidden'], ['Album/a.jpg'], []]) {
      await assert.rejects(openVerified(root, segments, album), PathRejectedError, JSON.stringify(segments));
    }
    assert.equal(await readFile(path.join(base, 'secret.db'), 'utf8'), 'not media', 'nothing was changed');
  });
});
