/**
 * `node --import tsx bench/nginx-ablation.ts [-- --duration S] [--rounds N]`: what each part of keepsake's
 * generated link-tree configuration costs nginx. The same cached `medium` is served with the
 * generated configuration as it is, then with one directive group taken out (or, for
 * `open_file_cache`, put in) at a time, and with PCRE's JIT on; the reference is nginx
 * serving a plain copy. The variants are diagnostics, never configurations to deploy.
 */
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { option, positiveNumber, report, runNodeJson, tempFolder, type Row } from './common.js';
import { BROWSER_HEADERS } from './keepsake-server.js';
import type { LoadResult } from './load.js';
import { freePort, openForNginx, plainConfig, startNginx } from './nginx.js';
import { generatedConfig } from './serve.js';
import { startTarget, stopTarget } from './serve-target.js';

interface Variant {
  readonly name: string;
  readonly change: (config: string) => string;
  readonly main?: readonly string[];
}

const without = (pattern: RegExp) => (config: string) => config.replace(pattern, '');

export const VARIANTS: readonly Variant[] = [
  { name: 'as generated', change: (config) => config },
  { name: 'pcre_jit on', change: (config) => config, main: ['pcre_jit on;'] },
  { name: 'without the guard checks (if $keepsake_media_…)', change: without(/^\s*if \(\$keepsake_media_(refused|hidden)\).*$/gm) },
  { name: 'without limit_req', change: without(/^\s*limit_req zone=.*$/gm) },
  { name: 'without disable_symlinks from=', change: without(/^\s*disable_symlinks on from=\$document_root.*$/gm) },
  { name: 'with open_file_cache', change: (config) => config.replace(/open_file_cache off;/g, 'open_file_cache max=1000 inactive=20s;') },
  { name: 'without all three (checks, limit_req, disable_symlinks)', change: (config) => without(/^\s*disable_symlinks on from=\$document_root.*$/gm)(without(/^\s*limit_req zone=.*$/gm)(without(/^\s*if \(\$keepsake_media_(refused|hidden)\).*$/gm)(config))) },
];

async function measure(block: string, port: number, urlPath: string, cookie: string, seconds: number, main: readonly string[] = []): Promise<LoadResult> {
  const nginx = await startNginx(block, port, main);
  try {
    const url = `http://127.0.0.1:${port}${urlPath}`;
    const headers = Object.entries({ ...BROWSER_HEADERS, ...(cookie === '' ? {} : { cookie }) }).map(([name, value]) => `${name}:${value}`);
    await runNodeJson<LoadResult>('load.ts', [url, '1', '10', ...headers], 60_000);
    const result = await runNodeJson<LoadResult>('load.ts', [url, String(seconds), '10', ...headers], (seconds + 30) * 1000);
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${block.slice(0, 40)}…: ${result.non2xx} non-2xx, ${result.errors} errors`);
    return result;
  } finally {
    await nginx.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const seconds = Math.ceil(option('duration', 5, positiveNumber('duration')));
  const rounds = Math.floor(option('rounds', 2, positiveNumber('rounds')));
  const target = await startTarget('keepsake');
  const copy = await tempFolder('plain');
  try {
    const { info } = target;
    await openForNginx(info.stateRoot, copy.dir);
    await copyFile(info.cachedFile, path.join(copy.dir, 'medium.webp'));
    const plainPort = await freePort();
    const better = (a: LoadResult | undefined, b: LoadResult) => (a === undefined || b.requestsPerSecond > a.requestsPerSecond ? b : a);
    let reference: LoadResult | undefined;
    const best = new Map<string, LoadResult>();
    // Interleaved rounds, best of each: the machine is shared and drifts.
    for (let round = 1; round <= rounds; round += 1) {
      reference = better(reference, await measure(plainConfig(`127.0.0.1:${plainPort}`, copy.dir), plainPort, '/medium.webp', '', seconds));
      for (const variant of VARIANTS) {
        const port = await freePort();
        const result = await measure(variant.change(generatedConfig(info, port, false)), port, info.mediumPath, info.cookie, seconds, variant.main);
        process.stdout.write(`round ${round}, ${variant.name}: ${result.requestsPerSecond.toFixed(0)} req/s\n`);
        best.set(variant.name, better(best.get(variant.name), result));
      }
    }
    if (reference === undefined) throw new Error('no reference measured');
    const results = VARIANTS.map((variant) => ({ name: variant.name, ...(best.get(variant.name) as LoadResult) }));
    const rows: Row[] = results.flatMap((result) => [
      { measure: `${result.name}: requests/s`, ours: result.requestsPerSecond, reference: reference.requestsPerSecond, referenceName: 'nginx, plain copy', unit: 'req/s' },
      { measure: `${result.name}: p99`, ours: result.p99, reference: reference.p99, referenceName: 'nginx, plain copy', unit: 'ms' },
    ]);
    await report('nginx-ablation', `nginx link tree, one part at a time (${seconds} s each, best of ${rounds} rounds)`, rows, { seconds, rounds, reference, results });
  } finally {
    await stopTarget(target.child);
    await copy.remove();
  }
}
