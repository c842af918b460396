import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runKeepsake } from './helpers/cli.js';
import { startTestServer } from './helpers/server.js';

async function filesUnder(directory: string): Promise<string[]> {
  try {
    const entries = await readdir(directory, { recursive: true, withFileTypes: true });
    return entries.filter((entry) => entry.isFile() && !entry.name.startsWith('.')).map((entry) => path.join(entry.parentPath, entry.name));
  } catch {
    return [];
  }
}

describe('keepsake pregenerate', () => {
  it('makes every variant of an album, with a progress line, and a second run has nothing left to do', async () => {
    const server = await startTestServer();
    const { env, stateDir } = server;
    await server.close();
    const cache = path.join(stateDir, 'cache');

    const first = await runKeepsake(['pregenerate', 'Summer 2024'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout + first.stderr, /Made every variant of 3 photos/);
    for (const variant of ['thumb', 'small', 'medium', 'large']) {
      const made = await filesUnder(path.join(cache, variant, 'Summer 2024'));
      assert.equal(made.length, 3, `${variant}: ${made.join(', ')}`);
    }
    assert.equal((await filesUnder(path.join(cache, 'medium', 'Kids'))).length, 0, 'only the album asked for');

    const before = (await filesUnder(cache)).length;
    const again = await runKeepsake(['pregenerate', 'Summer 2024'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await filesUnder(cache)).length, before, 'resumes: what exists is kept, nothing is made twice');

    const missing = await runKeepsake(['pregenerate', 'No Such Album'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no album "No Such Album"/);
  });
});
