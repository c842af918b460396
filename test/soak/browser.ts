import { Agent, request } from 'node:http';
import { keepCookies } from '../helpers/client.js';

/**
 * A browser as far as keepsake can tell: a cookie jar, the headers a same-site page sends,
 * and a few kept-alive connections. Every answer is read to the end and checked against its
 * Content-Length, so a 200 cut short is counted, never mistaken for a whole one.
 */

const HEADERS = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
  'sec-fetch-site': 'same-origin',
  accept: 'text/html,application/json,image/*;q=0.9,*/*;q=0.8',
};

export interface Answer {
  readonly status: number;
  readonly body: Buffer;
  readonly headers: Record<string, string | string[] | undefined>;
  /** Whole: the connection did not break and the body is as long as Content-Length said. */
  readonly whole: boolean;
  /** When the request went out (epoch ms): what a session's renewal is judged on. */
  readonly sentAt: number;
}

export interface Tally {
  requests: number;
  readonly statuses: Map<number, number>;
  /** A few examples of each kind of problem, for the report. */
  readonly problems: string[];
  serverErrors: number;
  /** Logins answered 503 with Retry-After: the server was checking as many passwords as it will at once. */
  busyLogins: number;
  shortBodies: number;
  connectionErrors: number;
  /** Requests sent again because the kept-alive connection had just been closed as idle. */
  staleConnectionRetries: number;
  unexpected: number;
}

export function newTally(): Tally {
  return { requests: 0, statuses: new Map(), problems: [], serverErrors: 0, busyLogins: 0, shortBodies: 0, connectionErrors: 0, staleConnectionRetries: 0, unexpected: 0 };
}

function note(tally: Tally, problem: string): void {
  if (tally.problems.length < 20) tally.problems.push(problem);
}

/** The server had closed the kept-alive connection a request went out on; nothing was answered. */
class StaleConnection extends Error {}

export class Browser {
  readonly cookies = new Map<string, string>();
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 6 });
  private lastAnswerAt = Date.now();

  constructor(
    private readonly base: URL,
    private readonly tally: Tally,
  ) {}

  /** GET or POST; `expect` lists the statuses this step may legitimately get (others are tallied as unexpected). */
  async send(method: 'GET' | 'POST', target: string, expect: readonly number[], form?: Record<string, string>): Promise<Answer | undefined> {
    const url = new URL(target, this.base);
    const headers: Record<string, string> = { ...HEADERS };
    if (this.cookies.size > 0) headers['cookie'] = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const body = form === undefined ? undefined : new URLSearchParams(form).toString();
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['origin'] = this.base.origin;
    }
    this.tally.requests += 1;
    let answer: Answer;
    const sentAt = Date.now();
    const idleMs = sentAt - this.lastAnswerAt;
    try {
      answer = { ...(await this.exchange(method, url, headers, body)), sentAt };
    } catch (error) {
      this.tally.connectionErrors += 1;
      note(this.tally, `${method} ${url.pathname}: ${(error as Error).message}`);
      return undefined;
    }
    keepCookies(this.cookies, [answer.headers['set-cookie'] ?? []].flat());
    this.tally.statuses.set(answer.status, (this.tally.statuses.get(answer.status) ?? 0) + 1);
    if (answer.status === 503 && method === 'POST' && url.pathname === '/login' && answer.headers['retry-after'] !== undefined) {
      // keepsake checks only a password or two at once and asks the rest to wait: not an error.
      this.tally.busyLogins += 1;
    } else if (answer.status >= 500) {
      this.tally.serverErrors += 1;
      note(this.tally, `${answer.status} for ${method} ${url.pathname}: ${answer.body.toString('utf8', 0, 200).trim()}`);
    } else if (!answer.whole) {
      this.tally.shortBodies += 1;
      note(this.tally, `short ${answer.status} for ${url.pathname}: ${answer.body.length} of ${String(answer.headers['content-length'])} bytes`);
    } else if (!expect.includes(answer.status)) {
      this.tally.unexpected += 1;
      note(this.tally, `unexpected ${answer.status} for ${method} ${url.pathname}, ${idleMs} ms after this browser's previous answer: ${answer.body.toString('utf8', 0, 200)}`);
    }
    this.lastAnswerAt = Date.now();
    return answer;
  }

  /** Counts answers that a step's own `expect` let through but the step found wrong afterwards. */
  reportUnexpected(count: number, problem: string): void {
    this.tally.unexpected += count;
    note(this.tally, problem);
  }

  /** Closes the kept-alive connections (what closing the tab does). */
  close(): void {
    this.agent.destroy();
  }

  /**
   * One request. A kept-alive connection the server closed as idle just as the request went
   * out fails with ECONNRESET before any answer; browsers silently retry such a request on a
   * new connection, and so does this (Node's documented pattern: `request.reusedSocket`).
   */
  private async exchange(method: string, url: URL, headers: Record<string, string>, body: string | undefined): Promise<Omit<Answer, 'sentAt'>> {
    try {
      return await this.exchangeOnce(method, url, headers, body);
    } catch (error) {
      if (!(error instanceof StaleConnection)) throw error;
      this.tally.staleConnectionRetries += 1;
      return this.exchangeOnce(method, url, headers, body);
    }
  }

  private exchangeOnce(method: string, url: URL, headers: Record<string, string>, body: string | undefined): Promise<Omit<Answer, 'sentAt'>> {
    return new Promise((resolve, reject) => {
      const outgoing = request(url, { method, headers, agent: this.agent }, (response) => {
        const chunks: Buffer[] = [];
        let broken = false;
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('aborted', () => {
          broken = true;
        });
        response.on('error', () => {
          broken = true;
        });
        response.on('close', () => {
          const received = Buffer.concat(chunks);
          const declared = response.headers['content-length'];
          const whole = !broken && response.complete && (declared === undefined || Number(declared) === received.length);
          resolve({ status: response.statusCode ?? 0, body: received, headers: response.headers, whole });
        });
      });
      outgoing.setTimeout(30_000, () => outgoing.destroy(new Error('no answer within 30 s')));
      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        reject(outgoing.reusedSocket && error.code === 'ECONNRESET' ? new StaleConnection() : error);
      });
      outgoing.end(body);
    });
  }
}
