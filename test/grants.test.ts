import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canSeeAlbum, grantedRoots as rootsOf, isAlbumGranted, normalisePattern, PatternError, type AlbumPlace } from '../src/auth/index.js';

const ALBUMS: AlbumPlace[] = ['Kids', 'Kids/Alice', 'Kids/Alice/2023', 'Kids/Bob', 'Summer 2024', 'Summer 2024/Day Two', 'Work'].map((path) => ({ path, realPath: path }));

function grantedRoots(patterns: readonly string[], albums: readonly AlbumPlace[]): string[] {
  return rootsOf(patterns, albums).map((album) => album.path);
}

describe('album patterns', () => {
  it('grants an album and everything below it', () => {
    assert.equal(isAlbumGranted(['Summer 2024'], 'Summer 2024'), true);
    assert.equal(isAlbumGranted(['Summer 2024'], 'Summer 2024/Day Two'), true);
    assert.equal(isAlbumGranted(['Summer 2024'], 'Summer 20245'), false);
    assert.equal(isAlbumGranted(['Summer 2024'], 'Kids'), false);
  });

  it('Kids/* grants the children of Kids but not Kids itself', () => {
    assert.equal(isAlbumGranted(['Kids/*'], 'Kids'), false);
    assert.equal(isAlbumGranted(['Kids/*'], 'Kids/Alice'), true);
    assert.equal(isAlbumGranted(['Kids/*'], 'Kids/Alice/2023'), true);
    assert.deepEqual(grantedRoots(['Kids/*'], ALBUMS), ['Kids/Alice', 'Kids/Bob']);
  });

  it('* grants every album, rooted at the top level', () => {
    assert.deepEqual(grantedRoots(['*'], ALBUMS), ['Kids', 'Summer 2024', 'Work']);
    assert.equal(isAlbumGranted(['*'], ''), false, 'the media root itself is never an album');
  });

  it('drops roots already inside another granted album', () => {
    assert.deepEqual(grantedRoots(['Kids', 'Kids/*', 'Summer 2024/Day Two'], ALBUMS), ['Kids', 'Summer 2024/Day Two']);
  });

  it('decides on where an album really is too: an album reached through a link shows only where its target is granted', () => {
    const favourites = { path: 'Favourites', realPath: 'Work' };
    assert.equal(canSeeAlbum(['Favourites'], favourites), false, 'a key granting the link but not its target');
    assert.equal(canSeeAlbum(['Favourites', 'Work'], favourites), true);
    assert.equal(canSeeAlbum(['*'], favourites), true);
    assert.deepEqual(grantedRoots(['Favourites', 'Kids/*'], [...ALBUMS, favourites]), ['Kids/Alice', 'Kids/Bob']);
    assert.deepEqual(grantedRoots(['*'], [...ALBUMS, favourites]), ['Favourites', 'Kids', 'Summer 2024', 'Work']);
  });

  it('validates patterns with a message naming the pattern', () => {
    assert.equal(normalisePattern(' /Summer 2024/ '), 'Summer 2024');
    for (const bad of ['', '../x', 'Kids/.hidden', 'Ki*ds', 'a//b', 'a\\b']) {
      assert.throws(() => normalisePattern(bad), (error: unknown) => error instanceof PatternError && error.message.includes(JSON.stringify(bad)));
    }
  });
});
