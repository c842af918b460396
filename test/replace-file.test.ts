import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REFUSAL_BODIES } from '../src/media-contract.js';
import { replaceFile } from '../src/replace-file.js';
import { refusalFileName, writeRefusalPages } from '../src/static-server/refusal-pages.js';
import { tempDir } from './helpers/fixtures.js';

describe('files written whole', () => {
  it('several processes writing the refusal pages at once all succeed, and leave only whole pages', async () => {
    // The server and a `keepsake key add` both write them at start; a shared temporary name once
    // let one rename the other's file away, and that command died on ENOENT.
    const dir = path.join(await tempDir('keepsake-refusals-'), 'refusals');
    await Promise.all(Array.from({ length: 12 }, () => writeRefusalPages(dir)));
    const names = (await readdir(dir)).sort();
    assert.deepEqual(names, Object.keys(REFUSAL_BODIES).map((status) => refusalFileName(Number(status) as keyof typeof REFUSAL_BODIES)).sort(), 'no temporary file left behind');
    for (const [status, body] of Object.entries(REFUSAL_BODIES)) {
      assert.equal(await readFile(path.join(dir, refusalFileName(Number(status) as keyof typeof REFUSAL_BODIES)), 'utf8'), body);
    }
  });

  it('a write that cannot land leaves the old file as it was and no temporary file', async () => {
    const dir = await tempDir('keepsake-replace-');
    const file = path.join(dir, 'page.html');
    await replaceFile(file, 'old', 0o644);
    await assert.rejects(replaceFile(path.join(dir, 'missing-folder', 'page.html'), 'new', 0o644), { code: 'ENOENT' });
    assert.equal(await readFile(file, 'utf8'), 'old');
    assert.deepEqual(await readdir(dir), ['page.html']);
  });
});
