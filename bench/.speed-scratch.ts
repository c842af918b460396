import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startTarget, stopTarget } from '/work/main/bench/serve-target.js';
import { freePort, openForNginx, plainConfig, startNginx } from '/work/main/bench/nginx.js';
import { runWrk } from '/work/main/bench/wrk.js';
import { BROWSER_HEADERS } from '/work/main/bench/keepsake-server.js';
import { tempFolder } from '/work/main/bench/common.js';
const { info, child } = await startTarget('keepsake');
const base = `http://127.0.0.1:${info.port}`;
const headers = { ...BROWSER_HEADERS, cookie: info.cookie };
const plain = await tempFolder('plain');
const cacheThumb = path.join(info.cacheDir, ...decodeURIComponent(info.thumbPath!).split('/').slice(2));
await copyFile(cacheThumb, path.join(plain.dir, 'thumb.webp'));
await copyFile(info.cachedFile, path.join(plain.dir, 'medium.webp'));
await openForNginx(plain.dir);
const port = await freePort();
const nginx = await startNginx(plainConfig(`127.0.0.1:${port}`, plain.dir), port);
for (const round of [1, 2]) {
  for (const [name, url, h] of [
    ['keepsake thumb', base + info.thumbPath, headers], ['plain thumb', `http://127.0.0.1:${port}/thumb.webp`, {}],
    ['keepsake medium', base + info.mediumPath, headers], ['plain medium', `http://127.0.0.1:${port}/medium.webp`, {}],
  ] as const) {
    const r = await runWrk({ url, seconds: 4, connections: 10, headers: h as Record<string,string> });
    console.log(round, name.padEnd(16), Math.round(r.requestsPerSecond), 'req/s p50', r.p50.toFixed(2), 'p99', r.p99.toFixed(2), 'non2xx', r.non2xx);
  }
}
await nginx.stop(); await stopTarget(child); await plain.remove();
