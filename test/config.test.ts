import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../src/config.js';
import { loadSettings as loadConfig } from '../src/settings.js';
import { tempDir } from './helpers/fixtures.js';

describe('loadConfig', () => {
  it('has defaults that work on a laptop', async () => {
    const cwd = await tempDir();
    const config = loadConfig({}, cwd);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 8080);
    assert.equal(config.sessionTtlMs, 12 * 3600 * 1000);
    assert.equal(config.sweepInterval, '* * * * *');
    assert.equal(config.mediaRoot, path.join(cwd, 'media-root'));
    assert.equal(config.webRoot, path.join(cwd, 'data', 'webroot'));
    assert.deepEqual(config.trustProxy, { mode: 'none' });
    assert.ok(Object.isFrozen(config));
  });

  it('takes the environment over the config file over defaults', async () => {
    const cwd = await tempDir();
    await writeFile(path.join(cwd, 'keepsake.config.json'), JSON.stringify({ port: 9000, sessionTtlMs: '2h', host: '0.0.0.0' }));
    const config = loadConfig({ KEEPSAKE_PORT: '9100', KEEPSAKE_SWEEP_INTERVAL: '*/5 * * * * *' }, cwd);
    assert.equal(config.port, 9100);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.sessionTtlMs, 2 * 3600 * 1000);
    assert.equal(config.sweepInterval, '*/5 * * * * *', 'six fields with seconds are accepted');
  });

  it('lists every bad value at once, one line each naming the setting, the value and what is allowed', async () => {
    const cwd = await tempDir();
    await writeFile(path.join(cwd, 'keepsake.config.json'), JSON.stringify({ logLevel: 'loud', colour: 'blue' }));
    try {
      loadConfig({ KEEPSAKE_PORT: 'eighty', KEEPSAKE_SESSION_TTL: 'forever', KEEPSAKE_SWEEP_INTERVAL: 'every minute', KEEPSAKE_TRUST_PROXY: 'maybe?', KEEPSAKE_PRESETS: '{"tiny": {}}' }, cwd);
      assert.fail('expected a ConfigError');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      const lines = error.problems;
      assert.equal(lines.length, 7, lines.join('\n'));
      assert.ok(lines.some((line) => line.includes('KEEPSAKE_PRESETS') && line.includes('presets.tiny')), 'a bad preset is listed with the rest');
      assert.ok(lines.some((line) => line.includes('KEEPSAKE_PORT="eighty"') && line.includes('integer from 0 to 65535')));
      assert.ok(lines.some((line) => line.includes('KEEPSAKE_SESSION_TTL="forever"') && line.includes('duration')));
      assert.ok(lines.some((line) => line.includes('KEEPSAKE_SWEEP_INTERVAL') && line.includes('cron')));
      assert.ok(lines.some((line) => line.includes('KEEPSAKE_TRUST_PROXY') && line.includes('CIDR')));
      assert.ok(lines.some((line) => line.includes('"logLevel"') && line.includes('"loud"')));
      assert.ok(lines.some((line) => line.includes('Unknown setting "colour"')));
    }
  });

  it('reports a config file that is not JSON', async () => {
    const cwd = await tempDir();
    await writeFile(path.join(cwd, 'keepsake.config.json'), '{ port: 1 ');
    assert.throws(() => loadConfig({}, cwd), (error: unknown) => error instanceof ConfigError && /not valid/.test(error.message));
  });
});
