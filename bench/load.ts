/**
 * A minimal keep-alive HTTP/1.1 load generator, in the spirit of wrk (which is not installed
 * here): each connection sends one GET, reads the headers, skips `Content-Length` bytes of
 * body without copying them, and sends the next. autocannon parses and buffers every body in
 * JavaScript and tops out near 80 MB/s on this machine, i.e. ~270 requests/s for a 300 kB
 * `medium` whoever serves it; this reads 1–2 GB/s, so the server is what gets measured.
 *
 * `node --import tsx bench/load.ts <url> <seconds> <connections> [header:value]…` prints one
 * JSON line (`LoadResult`). Latency is per request, from write to last byte, in milliseconds.
 */
import { connect, type Socket } from 'node:net';
import { percentile } from './common.js';

export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly megabytesPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly errors: number;
  readonly non2xx: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

interface Counters {
  latencies: number[];
  bytes: number;
  errors: number;
  non2xx: number;
}

/** One connection's request loop; resolves once `deadline` has passed and its last answer is in. */
function drive(url: URL, request: Buffer, deadline: number, counters: Counters): Promise<void> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true });
    let header: Buffer = Buffer.alloc(0);
    let remaining = -1;
    let sentAt = 0;
    const send = (): void => {
      if (performance.now() >= deadline) {
        socket.end();
        return;
      }
      header = Buffer.alloc(0);
      remaining = -1;
      sentAt = performance.now();
      socket.write(request);
    };
    const finish = (): void => {
      counters.latencies.push(performance.now() - sentAt);
      send();
    };
    socket.on('connect', send);
    socket.on('data', (chunk: Buffer) => {
      counters.bytes += chunk.length;
      if (remaining >= 0) {
        remaining -= chunk.length;
        if (remaining <= 0) finish();
        return;
      }
      header = header.length === 0 ? chunk : Buffer.concat([header, chunk]);
      const end = header.indexOf(HEADER_END);
      if (end === -1) return;
      const head = header.subarray(0, end).toString('latin1');
      const status = Number(head.slice(9, 12));
      if (status < 200 || status > 299) counters.non2xx += 1;
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (length === null) {
        counters.errors += 1;
        socket.destroy();
        return;
      }
      remaining = Number(length[1]) - (header.length - end - HEADER_END.length);
      if (remaining <= 0) finish();
    });
    socket.on('error', () => {
      counters.errors += 1;
    });
    socket.on('close', () => resolve());
  });
}

/** `seconds` of keep-alive GETs over `connections` connections. */
export async function runLoad(target: string, seconds: number, connections: number, headers: Record<string, string>): Promise<LoadResult> {
  const url = new URL(target);
  const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  const request = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const counters: Counters = { latencies: [], bytes: 0, errors: 0, non2xx: 0 };
  const started = performance.now();
  const deadline = started + seconds * 1000;
  // A connection the server closes (keepalive_requests, an error) is opened again until the deadline.
  const connection = async (): Promise<void> => {
    while (performance.now() < deadline && counters.errors < 1000) await drive(url, request, deadline, counters);
  };
  await Promise.all(Array.from({ length: connections }, connection));
  const elapsed = (performance.now() - started) / 1000;
  const { latencies } = counters;
  return {
    requests: latencies.length,
    seconds: elapsed,
    requestsPerSecond: latencies.length / elapsed,
    megabytesPerSecond: counters.bytes / 2 ** 20 / elapsed,
    p50: percentile(latencies, 50) ?? NaN,
    p99: percentile(latencies, 99) ?? NaN,
    max: percentile(latencies, 100) ?? NaN,
    errors: counters.errors,
    non2xx: counters.non2xx,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [url, seconds, connections, ...headerArgs] = process.argv.slice(2);
  if (url === undefined) throw new TypeError('Expected a URL for url but received nothing');
  const headers = Object.fromEntries(headerArgs.map((text) => {
    const colon = text.indexOf(':');
    return [text.slice(0, colon), text.slice(colon + 1)];
  }));
  const result = await runLoad(url, Number(seconds ?? 10), Number(connections ?? 10), headers);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
