/** What a browser sends with every same-site request from our pages (the guard checks these). */
export const BROWSER_HEADERS: Readonly<Record<string, string>> = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
  'sec-fetch-site': 'same-origin',
};

/** A tiny cookie-keeping HTTP client: what a browser does, minus the rendering. */
export class Client {
  readonly cookies = new Map<string, string>();

  constructor(readonly base: string) {}

  async request(target: string, init: RequestInit & { json?: unknown; form?: Record<string, string> } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(BROWSER_HEADERS)) if (!headers.has(name)) headers.set(name, value);
    if (this.cookies.size > 0 && !headers.has('cookie')) {
      headers.set('cookie', [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    }
    let body = init.body;
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(init.json);
    } else if (init.form !== undefined) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(new URL(target, this.base), { ...init, headers, body: body ?? null, redirect: 'manual' });
    keepCookies(this.cookies, response.headers.getSetCookie());
    return response;
  }

  get(target: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.request(target, { headers });
  }

  login(password: string, extra: Record<string, string> = {}): Promise<Response> {
    return this.request('/login', { method: 'POST', form: { password, ...extra } });
  }

  async me(): Promise<{ token: string; label: string; expiresAt: string; canDownloadOriginals: boolean }> {
    const response = await this.get('/api/me');
    if (response.status !== 200) throw new Error(`/api/me answered ${response.status}`);
    return (await response.json()) as { token: string; label: string; expiresAt: string; canDownloadOriginals: boolean };
  }
}

/**
 * A GET with exactly the given headers (fetch adds `Cache-Control: no-cache` to conditional
 * requests, which a browser revalidating its cache does not).
 */
export function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: import('node:http').IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    import('node:http').then(({ get }) => {
      const request = get(url, { headers: { ...BROWSER_HEADERS, ...headers } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
        response.on('error', reject);
      });
      request.on('error', reject);
    }, reject);
  });
}

/** What downloadOnce() saw: the status, the length the server declared, the bytes, and whether it ended cleanly. */
export interface Download {
  readonly status: number;
  readonly headers: import('node:http').IncomingHttpHeaders;
  /** Content-Length, or -1 without one. */
  readonly declared: number;
  readonly body: Buffer;
  /** The response ended cleanly (false: the connection broke off). */
  readonly complete: boolean;
}

/**
 * A GET with the browser's headers on a connection of its own (closed after the answer), so a
 * body cut short shows as such. `slow` reads in small pauses; `onFirstChunk` runs once the body
 * has started, with reading paused until it settles.
 */
export function downloadOnce(url: string, cookie: string, options: { slow?: boolean; onFirstChunk?: () => Promise<void> } = {}): Promise<Download> {
  return new Promise((resolve, reject) => {
    import('node:http').then(({ get }) => {
      const request = get(url, { agent: false, headers: { ...BROWSER_HEADERS, cookie } }, (response) => {
        const chunks: Buffer[] = [];
        let first = true;
        const finish = (complete: boolean) =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            declared: Number(response.headers['content-length'] ?? -1),
            body: Buffer.concat(chunks),
            complete,
          });
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          if (first) {
            first = false;
            if (options.onFirstChunk !== undefined) {
              response.pause();
              options.onFirstChunk().then(() => response.resume(), reject);
              return;
            }
          }
          if (options.slow === true) {
            response.pause();
            setTimeout(() => response.resume(), 3);
          }
        });
        response.on('end', () => finish(true));
        response.on('aborted', () => finish(false));
        response.on('error', () => finish(false));
      });
      request.on('error', reject);
    }, reject);
  });
}

export function cookieHeader(client: Client): string {
  return [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
}

/** Applies Set-Cookie lines to a cookie jar as a browser would: a cleared or expired cookie is dropped. */
export function keepCookies(jar: Map<string, string>, lines: readonly string[]): void {
  for (const line of lines) {
    const [pair = ''] = line.split(';');
    const index = pair.indexOf('=');
    const name = pair.slice(0, index).trim();
    const value = pair.slice(index + 1).trim();
    if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) jar.delete(name);
    else jar.set(name, value);
  }
}
