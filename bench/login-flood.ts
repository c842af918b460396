/**
 * `npm run bench:login-flood [-- --duration S --rounds N]`: does a flood of wrong passwords slow
 * the photos of a family that is logged in? keepsake runs as its own process with five keys; a
 * family (wrk, four connections, each pausing 20 ms between requests: a person browsing, not a
 * load test) fetches a cached `thumb` once at rest and once while 20 other connections send
 * wrong passwords from 200 addresses (wrk with a Lua script; keepsake trusts the proxy on
 * 127.0.0.1, so X-Forwarded-For names each). The figure is the family's p99 under the flood
 * beside its p99 at rest, in the same run. keepsake answers a refused login after a pause, so a
 * flooder that waits for each answer sends about one a second per connection: the same flood
 * also runs from 500 connections, as an attacker who knows that would. Rounds are interleaved;
 * the worst round of each is kept.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { option, positiveNumber, report, type Row } from './common.js';
import { BROWSER_HEADERS } from './keepsake-server.js';
import { startTarget, stopTarget } from './serve-target.js';
import { ensureWrk, runWrk, type WrkResult } from './wrk.js';

const FAMILY_CONNECTIONS = 4;
const FAMILY_PAUSE_MS = 20;
const FLOOD_CONNECTIONS = [20, 500] as const;
const FLOOD_ADDRESSES = 200;

interface Round {
  readonly rest: WrkResult;
  readonly flood: WrkResult;
  readonly logins: WrkResult;
}

async function round(base: string, thumbPath: string, cookie: string, seconds: number, connections: number): Promise<Round> {
  const family = { url: `${base}${thumbPath}`, seconds, connections: FAMILY_CONNECTIONS, headers: { ...BROWSER_HEADERS, cookie }, script: 'paced.lua', scriptArgs: [String(FAMILY_PAUSE_MS)] };
  const rest = await runWrk(family);
  // The flood starts first and outlasts the family's run on both sides.
  const logins = runWrk({ url: `${base}/login`, seconds: seconds + 4, connections, script: 'login-flood.lua', scriptArgs: [base, String(FLOOD_ADDRESSES)] });
  await sleep(2000);
  const flood = await runWrk(family);
  return { rest, flood, logins: await logins };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const seconds = option('duration', 8, positiveNumber('duration'));
  const rounds = option('rounds', 2, positiveNumber('rounds'));
  await ensureWrk();
  const { info, child } = await startTarget('flood');
  const results = new Map<number, Round[]>(FLOOD_CONNECTIONS.map((connections) => [connections, []]));
  try {
    const base = `http://127.0.0.1:${info.port}`;
    for (let index = 0; index < rounds; index += 1) {
      for (const connections of FLOOD_CONNECTIONS) {
        results.get(connections)!.push(await round(base, info.thumbPath!, info.cookie, seconds, connections));
        // Let the login throttle's waits run out between rounds, as the next flood would find them.
        await sleep(2000);
      }
    }
  } finally {
    await stopTarget(child);
  }
  const rows: Row[] = FLOOD_CONNECTIONS.flatMap((connections): Row[] => {
    const worst = results.get(connections)!.reduce((a, b) => (b.flood.p99 / b.rest.p99 > a.flood.p99 / a.rest.p99 ? b : a));
    const from = `from ${connections} connections`;
    return [
      // The goal is the measure (20 connections); 500 shows what a flooder gains by opening more.
      { measure: `a family's cached thumb during a login flood ${from}: p99`, ours: worst.flood.p99, reference: worst.rest.p99, referenceName: 'the same at rest', unit: 'ms', ...(connections === 20 ? { goal: '≤ 2' } : {}) },
      { measure: '… p50', ours: worst.flood.p50, reference: worst.rest.p50, referenceName: 'the same at rest', unit: 'ms' },
      { measure: '… slowest answer', ours: worst.flood.max, reference: worst.rest.max, referenceName: 'the same at rest', unit: 'ms' },
      { measure: '… answers that were not 200', ours: worst.flood.non2xx + worst.flood.socketErrors, reference: worst.rest.non2xx + worst.rest.socketErrors, referenceName: 'the same at rest', unit: '' },
      { measure: `wrong passwords sent ${from}`, ours: worst.logins.requestsPerSecond, reference: undefined, referenceName: `${FLOOD_ADDRESSES} addresses`, unit: '/s' },
    ];
  });
  await report('login-flood', `Photos during a login flood (${rounds} rounds of ${seconds} s, worst kept)`, rows, { results: Object.fromEntries(results) });
}
