import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { tempDir } from './helpers/fixtures.js';

const run = promisify(execFile);
const NAMES = 150;
const PROCESSES = 6;

/** A child that waits for a shared moment, then asks for every secret in turn and prints what it got. */
const CHILD = `
import { loadOrCreateSecret } from ${JSON.stringify(path.resolve('src/store/secrets.ts'))};
const [dir, at, count] = process.argv.slice(-3);
while (Date.now() < Number(at)) {}
const got = [];
for (let i = 0; i < Number(count); i += 1) got.push(loadOrCreateSecret(dir, 'secret-' + i));
process.stdout.write(JSON.stringify(got));
`;

describe('secrets', () => {
  it('processes starting together on a fresh state folder all keep the one secret that is on disk', async () => {
    // The server and a keepsake command may start at the same moment. Each once found no secret,
    // made its own, and renamed it into place: the last rename won, and the other process went on
    // signing with a secret nobody else had (its cookies failed everywhere else).
    const dir = path.join(await tempDir('keepsake-secrets-'), 'secrets');
    const at = Date.now() + 2500;
    const answers = await Promise.all(
      Array.from({ length: PROCESSES }, () =>
        run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, dir, String(at), String(NAMES)], { timeout: 60_000 }).then(
          ({ stdout }) => JSON.parse(stdout) as string[],
        ),
      ),
    );
    for (let i = 0; i < NAMES; i += 1) {
      const onDisk = (await readFile(path.join(dir, `secret-${i}`), 'utf8')).trim();
      assert.ok(onDisk.length >= 40, `secret-${i} is whole`);
      for (const answer of answers) assert.equal(answer[i], onDisk, `every process holds secret-${i} as it is on disk`);
    }
    assert.equal((await readdir(dir)).length, NAMES, 'no temporary file left behind');
  });
});
