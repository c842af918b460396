import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { createFolderRescans, topmost } from '../src/library/folder-rescans.js';
import { openMediaRoot } from '../src/library/media-root.js';
import type { ScanOptions, ScanReport } from '../src/library/scanner.js';
import { captureLog, makeSandbox, waitFor } from './fixtures/library-fixtures.js';

const report = (deferred: number, added = 0): ScanReport => ({ albums: 0, items: 0, added, updated: 0, removed: 0, skipped: 0, deferred, ms: 1, complete: true });

describe('rescans of changed folders', () => {
  const sandbox = makeSandbox();
  after(() => sandbox.remove());

  test('topmost keeps only folders no other listed folder contains', () => {
    assert.deepEqual(topmost(['A/x', 'A', 'A B', 'A B/y/z', 'C/d', 'C/d/e', 'C/de']).sort(), ['A', 'A B', 'C/d', 'C/de']);
    assert.deepEqual(topmost(['A', '', 'B/c']), ['']);
    assert.deepEqual(topmost([]), []);
  });

  test('changed folders are scanned once the burst is quiet, outer folders only, and again while files are still changing', async () => {
    for (const folder of ['Drop/Day 1', 'Drop/Day 2', 'Other']) mkdirSync(path.join(sandbox.mediaRoot, folder), { recursive: true });
    writeFileSync(path.join(sandbox.mediaRoot, 'not-a-folder.jpg'), 'x');
    const logged = captureLog();
    const scans: Array<{ folder: string; options: ScanOptions }> = [];
    let dropStillChanging = 1;
    const rescans = createFolderRescans({
      root: openMediaRoot(sandbox.mediaRoot, logged.log),
      log: logged.log,
      settledForMs: 1500,
      quietMs: 50,
      scan: async (folder, options) => {
        scans.push({ folder: folder.relativePath, options });
        if (folder.relativePath === 'Drop' && dropStillChanging > 0) return report(dropStillChanging--);
        return report(0, folder.relativePath === 'Other' ? 3 : 0);
      },
    });
    for (const folder of ['Drop', 'Drop/Day 1', 'Drop/Day 2', 'Other', 'not-a-folder.jpg', 'Vanished']) rescans.folderChanged(folder);
    await waitFor(() => scans.length >= 3, 5_000, 'two rounds of rescans');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await rescans.close();
    assert.deepEqual(
      scans.map((scan) => scan.folder),
      ['Drop', 'Other', 'Drop'],
      'Drop once more for its deferred file; a file and a vanished path are not scanned',
    );
    assert.ok(scans.every((scan) => scan.options.settledForMs === 1500));
    assert.equal(logged.lines.filter((line) => line.msg === 'rescan after changes found files the watcher missed' && line.folder === 'Other').length, 1);
  });

  test('close() stops a rescan that has not started yet', async () => {
    let scanned = 0;
    const rescans = createFolderRescans({
      root: openMediaRoot(sandbox.mediaRoot, captureLog().log),
      log: captureLog().log,
      settledForMs: 0,
      quietMs: 100,
      scan: async () => {
        scanned += 1;
        return report(0);
      },
    });
    rescans.folderChanged('Other');
    await rescans.close();
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(scanned, 0);
  });
});
