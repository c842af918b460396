// Scratch: serve like serve-target's keepsake, and CPU-profile only while the load runs (SIGUSR2 starts, SIGUSR1 stops).
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { CORPUS_ALBUM, CORPUS_DIR } from './common.js';
import { BENCH_GUARD, startBenchServer } from './keepsake-server.js';
const bench = await startBenchServer({ mediaRoot: CORPUS_DIR, env: {}, guard: BENCH_GUARD });
await bench.idle(300_000);
const cookie = await bench.login();
const item = (await bench.items(CORPUS_ALBUM, cookie)).find((entry) => entry.name === 'p12-01.jpg')!;
for (const v of ['thumb', 'medium']) await bench.get(item.urls[v]!, cookie);
const session = new Session(); session.connect();
await session.post('Profiler.enable');
process.on('SIGUSR2', () => void session.post('Profiler.start'));
process.on('SIGUSR1', async () => { const { profile } = await session.post('Profiler.stop'); writeFileSync('/tmp/prof/load.cpuprofile', JSON.stringify(profile)); await bench.close(); process.exit(0); });
process.stdout.write(JSON.stringify({ port: bench.server.port, thumbPath: item.urls['thumb'], mediumPath: item.urls['medium'], cookie }) + '\n');
