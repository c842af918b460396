import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { copyCatalogue, startCatalogueSync, type SharedCatalogue } from '../src/cluster/index.js';
import { createLibrary, type CatalogueRows, type LibraryChange, type LibraryService } from '../src/library/index.js';
import { captureLog, makeSandbox, openLibrary, waitFor, writeJpeg, type Sandbox } from './fixtures/library-fixtures.js';

/*
 * Several nodes copy one catalogue (src/cluster/catalogue-sync.ts): here two real libraries on
 * SQLite over one media root, the second a copy of the first, as a node that does not lead copies
 * the leader's rows out of PostgreSQL (the two-node test runs the same over the real database).
 */

describe('copying the catalogue to another node', () => {
  let leaderBox: Sandbox;
  let copyBox: Sandbox;
  let leader: ReturnType<typeof openLibrary>;
  let copy: LibraryService;
  const heard: LibraryChange[] = [];
  const copyOver = () => copyCatalogue(leader.library.replica, copy.replica, (paths, rows) => copy.replica.apply(paths, rows));

  before(async () => {
    leaderBox = makeSandbox();
    copyBox = makeSandbox();
    const at = (relative: string) => path.join(leaderBox.mediaRoot, relative);
    await writeJpeg(at('Summer/a1.jpg'), {});
    await writeJpeg(at('Summer/a2.jpg'), {});
    await writeJpeg(at('Summer/Beach/b1.jpg'), {});
    await writeJpeg(at('Kids/k1.jpg'), {});
    leader = openLibrary(leaderBox);
    await leader.library.scan();
    copy = createLibrary({ db: copyBox.db, mediaRoot: leaderBox.mediaRoot, log: captureLog().log });
    copy.onChange((change) => heard.push(change));
  });
  after(async () => {
    await Promise.all([leader.library.close(), copy.close()]);
    leaderBox.remove();
    copyBox.remove();
  });

  test('a node copies every album and item, row for row, and hears each as added', async () => {
    const written = await copyOver();
    assert.equal(written, 7, 'three albums and four photos');
    assert.deepEqual(copy.albumPaths(), leader.library.albumPaths());
    for (const [album, name] of [['Summer', 'a1.jpg'], ['Summer/Beach', 'b1.jpg'], ['Kids', 'k1.jpg']] as const) {
      assert.deepEqual(copy.item(album, name), leader.library.item(album, name));
    }
    assert.deepEqual(heard.filter((change) => change.kind === 'album-added').map((change) => 'albumPath' in change && change.albumPath).sort(), ['Kids', 'Summer', 'Summer/Beach']);
    assert.equal(heard.filter((change) => change.kind === 'item-added').length, 4);
    assert.equal(await copyOver(), 0, 'a second comparison finds nothing to write');
  });

  test('a photo removed and one added on the leader are removed and added on the copy, and nothing else moves', async () => {
    heard.length = 0;
    rmSync(path.join(leaderBox.mediaRoot, 'Summer', 'a2.jpg'));
    await writeJpeg(path.join(leaderBox.mediaRoot, 'Kids', 'k2.jpg'), {});
    await leader.library.scan();
    assert.equal(await copyOver(), 2);
    assert.equal(copy.item('Summer', 'a2.jpg'), undefined);
    assert.ok(copy.item('Kids', 'k2.jpg'));
    assert.deepEqual(heard.map((change) => change.kind).sort(), ['item-added', 'item-removed']);
  });

  test('a placeholder made on the leader reaches the copy without counting as a changed photo', async () => {
    // Placeholders are made in the background, one photo after another: wait for all of them, so
    // that none lands between this test's copy and the next one's.
    const photos = [['Summer', 'a1.jpg'], ['Summer/Beach', 'b1.jpg'], ['Kids', 'k1.jpg'], ['Kids', 'k2.jpg']] as const;
    await waitFor(() => photos.every(([album, name]) => leader.library.item(album, name)?.placeholder !== undefined), 10_000, 'the leader to make the placeholders');
    await leader.library.idle();
    heard.length = 0;
    assert.ok((await copyOver()) > 0);
    assert.equal(copy.item('Summer', 'a1.jpg')?.placeholder, leader.library.item('Summer', 'a1.jpg')?.placeholder);
    assert.deepEqual(heard, [], 'its derivatives are still good: no change is told');
  });

  test('a folder removed on the leader goes from the copy with what it held', async () => {
    heard.length = 0;
    rmSync(path.join(leaderBox.mediaRoot, 'Summer', 'Beach'), { recursive: true });
    await leader.library.scan();
    assert.equal(await copyOver(), 2);
    assert.deepEqual(copy.albumPaths(), ['Kids', 'Summer']);
    assert.deepEqual(heard.map((change) => change.kind), ['item-removed', 'album-removed']);
  });
});

describe('the leading node sends what it writes', () => {
  let box: Sandbox;
  let opened: ReturnType<typeof openLibrary>;
  before(async () => {
    box = makeSandbox();
    await writeJpeg(path.join(box.mediaRoot, 'Summer', 'a1.jpg'), {});
    opened = openLibrary(box);
  });
  after(async () => {
    await opened.library.close();
    box.remove();
  });

  test('in one transaction a moment later, again after the database failed, and not at all once it no longer leads', async () => {
    const writes: Array<{ paths: readonly string[]; rows: CatalogueRows }> = [];
    let failures = 1;
    let leads = true;
    const shared: SharedCatalogue = {
      rows: async () => ({ albums: [], items: [] }),
      albumRows: async () => [],
      itemsIn: async () => [],
      async write(paths, rows) {
        if (failures-- > 0) throw new Error('connection refused');
        writes.push({ paths, rows });
      },
    };
    const { log, lines } = captureLog();
    const sync = startCatalogueSync({ library: opened.library, shared, isLeader: () => leads, scanned: async () => undefined, log });
    try {
      await opened.library.scan();
      await waitFor(() => writes.length > 0, 5_000, 'the rows to be sent');
      assert.deepEqual([...writes[0]!.paths].sort(), ['Summer', 'Summer/a1.jpg'], 'the album and its photo, together');
      assert.deepEqual(writes[0]!.rows.items.map((item) => item.name), ['a1.jpg']);
      assert.ok(lines.some((line) => line['msg'] === 'could not send catalogue changes to the database; retrying'), 'the failure was said, and the rows kept');
      leads = false;
      const before = writes.length;
      await writeJpeg(path.join(box.mediaRoot, 'Summer', 'a2.jpg'), {});
      await opened.library.scan();
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(writes.length, before, 'a node that does not lead writes nothing');
    } finally {
      await sync.stop();
    }
  });
});
