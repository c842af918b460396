/**
 * `node --import tsx bench/nginx-ablation.ts [-- --duration S] [--rounds N]`: what each part of keepsake's
 * generated link-tree configuration costs nginx, measured with wrk on the cached `thumb` (the
 * small answer, where per-request costs show most). The configuration is served as it is, then
 * with one part taken out (or, for `open_file_cache`, put in) at a time, and with PCRE's JIT on;
 * the reference is nginx serving a plain copy. The variants are diagnostics, never
 * configurations to deploy: every part taken out here keeps an invariant.
 */
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { option, positiveNumber, report, tempFolder, type Row } from './common.js';
import { BROWSER_HEADERS } from './keepsake-server.js';
import { freePort, openForNginx, plainConfig, startNginx } from './nginx.js';
import { generatedConfig } from './serve.js';
import { startTarget, stopTarget } from './serve-target.js';
import { ensureWrk, runWrk, type WrkResult } from './wrk.js';

interface Variant {
  readonly name: string;
  readonly change: (config: string) => string;
  readonly main?: readonly string[];
}

const without = (pattern: RegExp) => (config: string) => {
  const changed = config.replace(pattern, '');
  // A part renamed in the generator must not quietly measure the config as generated.
  if (changed === config) throw new Error(`ablation: ${pattern} matched nothing in the generated configuration`);
  return changed;
};
const GUARD_CHECKS = /^\s*if \(\$keepsake_media_verdict = .*$/gm;
const LIMITS = /^\s*limit_req zone=.*$/gm;
const SYMLINK_RULE = /^\s*disable_symlinks on from=\$document_root.*$/gm;
const IGNORED_NAMES = /^\s*location ~\* "\/\(\?:#recycle.*$/gm;
const HEADERS = /^\s*add_header .*$/gm;

export const VARIANTS: readonly Variant[] = [
  { name: 'as generated', change: (config) => config },
  { name: 'pcre_jit on', change: (config) => config, main: ['pcre_jit on;'] },
  { name: 'without the guard checks (if $keepsake_media_verdict …)', change: without(GUARD_CHECKS) },
  { name: 'without the user-agent check', change: (config) => config.replace(/map \$http_user_agent \$keepsake_agent_refused \{[^}]*\}/, 'map $http_user_agent $keepsake_agent_refused { default 0; }') },
  { name: 'without limit_req', change: without(LIMITS) },
  { name: 'without disable_symlinks from=', change: without(SYMLINK_RULE) },
  { name: 'without the ignored-names location', change: without(IGNORED_NAMES) },
  { name: 'without add_header (security headers, Cache-Control)', change: without(HEADERS) },
  { name: 'without the masked access log', change: (config) => config.replace(/access_log "[^"]*" keepsake_private;/, 'access_log off;') },
  { name: 'with open_file_cache', change: (config) => config.replace(/open_file_cache off;/g, 'open_file_cache max=1000 inactive=20s;') },
  { name: 'without checks, limit_req and disable_symlinks', change: (config) => without(SYMLINK_RULE)(without(LIMITS)(without(GUARD_CHECKS)(config))) },
];

async function measure(block: string, port: number, urlPath: string, cookie: string, seconds: number, main: readonly string[] = []): Promise<WrkResult> {
  const nginx = await startNginx(block, port, main);
  try {
    const url = `http://127.0.0.1:${port}${urlPath}`;
    const headers = { ...BROWSER_HEADERS, ...(cookie === '' ? {} : { cookie }) };
    await runWrk({ url, seconds: 1, connections: 10, headers });
    const result = await runWrk({ url, seconds, connections: 10, headers });
    if (result.non2xx > 0 || result.socketErrors > 0) throw new Error(`${block.slice(0, 40)}…: ${result.non2xx} non-2xx, ${result.socketErrors} socket errors`);
    return result;
  } finally {
    await nginx.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const seconds = Math.ceil(option('duration', 4, positiveNumber('duration')));
  await ensureWrk();
  const rounds = Math.floor(option('rounds', 2, positiveNumber('rounds')));
  const target = await startTarget('keepsake');
  const copy = await tempFolder('plain');
  try {
    const { info } = target;
    await openForNginx(info.stateRoot, copy.dir);
    await copyFile(info.thumbFile, path.join(copy.dir, 'thumb.webp'));
    const plainPort = await freePort();
    const better = (a: WrkResult | undefined, b: WrkResult) => (a === undefined || b.requestsPerSecond > a.requestsPerSecond ? b : a);
    let reference: WrkResult | undefined;
    const best = new Map<string, WrkResult>();
    // Interleaved rounds, best of each: the machine is shared and drifts.
    for (let round = 1; round <= rounds; round += 1) {
      reference = better(reference, await measure(plainConfig(`127.0.0.1:${plainPort}`, copy.dir), plainPort, '/thumb.webp', '', seconds));
      for (const variant of VARIANTS) {
        const port = await freePort();
        const result = await measure(variant.change(generatedConfig(info, port, false)), port, info.thumbPath, info.cookie, seconds, variant.main);
        process.stdout.write(`round ${round}, ${variant.name}: ${result.requestsPerSecond.toFixed(0)} req/s\n`);
        best.set(variant.name, better(best.get(variant.name), result));
      }
    }
    if (reference === undefined) throw new Error('no reference measured');
    const results = VARIANTS.map((variant) => ({ name: variant.name, ...(best.get(variant.name) as WrkResult) }));
    const rows: Row[] = results.flatMap((result) => [
      { measure: `${result.name}: requests/s`, ours: result.requestsPerSecond, reference: reference.requestsPerSecond, referenceName: 'nginx, plain copy', unit: 'req/s' },
      { measure: `${result.name}: p99`, ours: result.p99, reference: reference.p99, referenceName: 'nginx, plain copy', unit: 'ms' },
    ]);
    await report('nginx-ablation', `nginx link tree, one part at a time: cached thumb, wrk, 10 connections, ${seconds} s each, best of ${rounds} rounds`, rows, { seconds, rounds, reference, results });
  } finally {
    await stopTarget(target.child);
    await copy.remove();
  }
}
