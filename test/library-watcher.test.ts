import assert from 'node:assert/strict';
import { cpSync, mkdirSync, openSync, closeSync, renameSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { LibraryChange } from '../src/library/index.js';
import { jpegBytes, makeSandbox, openLibrary, waitFor, writeJpeg, type Sandbox } from './fixtures/library-fixtures.js';

const DROP_SIZE = 200;
const BOUND_MS = 20_000;

describe('library watcher', () => {
  let sandbox: Sandbox;
  let opened: ReturnType<typeof openLibrary>;
  const at = (relative: string) => path.join(sandbox.mediaRoot, relative);
  const names = (albumPath: string) => opened.library.listing(albumPath)?.items.map((item) => item.name) ?? [];
  const since = (mark: number, kind: LibraryChange['kind']) => opened.changes.slice(mark).filter((change) => change.kind === kind);

  before(async () => {
    sandbox = makeSandbox();
    await writeJpeg(at('Existing/e.jpg'));
    // A folder of photos made outside the root, to be copied in as an admin would.
    const staging = path.join(sandbox.dir, 'staging', 'Holiday');
    mkdirSync(staging, { recursive: true });
    const photo = await jpegBytes({ width: 32, height: 24 });
    for (let index = 0; index < DROP_SIZE; index += 1) {
      writeFileSync(path.join(staging, `p${String(index).padStart(3, '0')}.jpg`), photo);
    }
    mkdirSync(path.join(staging, 'Evening'));
    writeFileSync(path.join(staging, 'Evening', 'sunset.jpg'), photo);
    opened = openLibrary(sandbox);
    await opened.library.watch();
    await opened.library.scan();
  });
  after(async () => {
    await opened.library.close();
    sandbox.remove();
  });

  test(`a dropped folder of ${DROP_SIZE} photos appears, sub-album included, within ${BOUND_MS / 1000} s`, async () => {
    const mark = opened.changes.length;
    cpSync(path.join(sandbox.dir, 'staging', 'Holiday'), at('Holiday'), { recursive: true });
    const took = await waitFor(() => names('Holiday').length === DROP_SIZE && names('Holiday/Evening').length === 1, BOUND_MS, 'the dropped folder');
    assert.ok(took < BOUND_MS);
    assert.deepEqual(opened.library.albumPaths(), ['Existing', 'Holiday', 'Holiday/Evening']);
    assert.equal(opened.library.item('Holiday', 'p000.jpg')?.width, 32);
    assert.equal(since(mark, 'item-added').length, DROP_SIZE + 1);
    assert.deepEqual(since(mark, 'album-added').map((change) => 'albumPath' in change && change.albumPath).sort(), ['Holiday', 'Holiday/Evening']);
  });

  test('a file being written slowly is catalogued only once complete', async () => {
    const bytes = await jpegBytes({ width: 60, height: 45 });
    const fd = openSync(at('Holiday/slow.jpg'), 'w');
    writeSync(fd, bytes, 0, Math.floor(bytes.length / 2));
    await delay(400);
    assert.equal(opened.library.item('Holiday', 'slow.jpg'), undefined, 'not while half written');
    writeSync(fd, bytes, Math.floor(bytes.length / 2));
    closeSync(fd);
    await waitFor(() => opened.library.item('Holiday', 'slow.jpg') !== undefined, BOUND_MS, 'the slow file');
    const slow = opened.library.item('Holiday', 'slow.jpg');
    assert.deepEqual([slow?.width, slow?.height, slow?.size], [60, 45, bytes.length]);
    assert.deepEqual(opened.logged.about('Holiday/slow.jpg'), [], 'never read half written, so never skipped');
  });

  test('an overwritten photo is re-read', async () => {
    const mark = opened.changes.length;
    writeFileSync(at('Holiday/p001.jpg'), await jpegBytes({ width: 50, height: 10 }));
    await waitFor(() => opened.library.item('Holiday', 'p001.jpg')?.width === 50, BOUND_MS, 'the overwritten photo');
    assert.equal(since(mark, 'item-changed').length, 1);
  });

  test('renaming a file and a folder moves them in the catalogue', async () => {
    renameSync(at('Holiday/p002.jpg'), at('Holiday/renamed.jpg'));
    renameSync(at('Existing'), at('Earlier'));
    await waitFor(
      () => opened.library.item('Holiday', 'renamed.jpg') !== undefined && opened.library.item('Holiday', 'p002.jpg') === undefined,
      BOUND_MS,
      'the renamed file',
    );
    await waitFor(() => names('Earlier').length === 1 && opened.library.summary('Existing') === undefined, BOUND_MS, 'the renamed folder');
    assert.deepEqual(opened.library.albumPaths(), ['Earlier', 'Holiday', 'Holiday/Evening']);
  });

  test('non-media files and links leaving the root that appear are skipped with one log line', async () => {
    writeFileSync(at('Holiday/readme.txt'), 'hello');
    symlinkSync('/etc', at('Holiday/etc'));
    await waitFor(() => opened.logged.about('Holiday/etc').length > 0 && opened.logged.about('Holiday/readme.txt').length > 0, BOUND_MS, 'the skip lines');
    assert.equal(opened.library.summary('Holiday/etc'), undefined);
    assert.equal(opened.logged.about('Holiday/etc')[0]?.reason, 'symlink-outside');
  });

  test('a symlink to a folder inside the root appears as an album with its photos', async () => {
    symlinkSync(at('Earlier'), at('Linked'));
    await waitFor(() => names('Linked').length === 1, BOUND_MS, 'the linked folder');
    assert.deepEqual(names('Linked'), names('Earlier'));
  });

  test('deleting the folder removes its albums and items, with events', async () => {
    const mark = opened.changes.length;
    const itemCount = names('Holiday').length + names('Holiday/Evening').length;
    assert.equal(itemCount, DROP_SIZE + 2, 'the drop, the slow file and the sunset');
    rmSync(at('Holiday'), { recursive: true });
    await waitFor(() => opened.library.listing('Holiday') === undefined && opened.library.listing('Holiday/Evening') === undefined, BOUND_MS, 'the deleted folder');
    await waitFor(() => since(mark, 'item-removed').length === itemCount, BOUND_MS, 'every item-removed event');
    assert.deepEqual(opened.library.albumPaths(), ['Earlier', 'Linked']);
    const removedAlbums = since(mark, 'album-removed').map((change) => 'albumPath' in change && change.albumPath);
    assert.deepEqual(removedAlbums.sort(), ['Holiday', 'Holiday/Evening']);
    const removed = since(mark, 'item-removed')[0];
    assert.ok(removed?.kind === 'item-removed' && removed.item.albumPath.startsWith('Holiday'), 'the last known item is in the event');
  });

  test('close() stops watching', async () => {
    await opened.library.close();
    await writeJpeg(at('Earlier/after-close.jpg'));
    await delay(1500);
    assert.equal(opened.library.item('Earlier', 'after-close.jpg'), undefined);
  });
});
