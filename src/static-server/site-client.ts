import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

/*
 * The HTTP client behind `keepsake doctor --url`: node:http rather than fetch, because fetch
 * normalises `%2e%2e` and `..` away before sending, and the traversal probes must reach the
 * server exactly as written. It keeps cookies like a browser (ignoring their paths: the checks
 * choose which cookies to send) and speaks as a browser does, or the guard would refuse it.
 */

/** A current browser's User-Agent: keepsake refuses scripting clients by name. */
export const BROWSER_USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 keepsake-doctor';

export interface SiteResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface SiteRequest {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Send the cookie jar (default true). */
  readonly withCookies?: boolean;
}

export interface SiteClient {
  readonly base: URL;
  readonly cookies: Map<string, string>;
  request(rawPath: string, options?: SiteRequest): Promise<SiteResponse>;
}

const TIMEOUT_MS = 10_000;
const MAX_BODY_BYTES = 4 * 1024 * 1024;

function storeCookies(jar: Map<string, string>, setCookie: readonly string[] | undefined): void {
  for (const line of setCookie ?? []) {
    const [pair = ''] = line.split(';');
    const index = pair.indexOf('=');
    if (index <= 0) continue;
    const name = pair.slice(0, index).trim();
    const value = pair.slice(index + 1).trim();
    if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) jar.delete(name);
    else jar.set(name, value);
  }
}

export function cookieHeader(cookies: ReadonlyMap<string, string>): string {
  return [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
}

export function createSiteClient(base: URL): SiteClient {
  const cookies = new Map<string, string>();
  const transport = base.protocol === 'https:' ? https : http;
  function request(rawPath: string, options: SiteRequest = {}): Promise<SiteResponse> {
    const headers: Record<string, string> = { 'user-agent': BROWSER_USER_AGENT, 'sec-fetch-site': 'same-origin', ...options.headers };
    if ((options.withCookies ?? true) && cookies.size > 0 && headers['cookie'] === undefined) headers['cookie'] = cookieHeader(cookies);
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    return new Promise((resolve, reject) => {
      const outgoing = transport.request(
        { protocol: base.protocol, hostname: base.hostname, port: base.port, method: options.method ?? 'GET', path: rawPath, headers, timeout: TIMEOUT_MS },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            // Only the start of a body is ever inspected; a huge one is cut, not buffered whole.
            if (size <= MAX_BODY_BYTES) chunks.push(chunk);
          });
          response.on('end', () => {
            storeCookies(cookies, response.headers['set-cookie']);
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) });
          });
          response.on('error', reject);
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer from ${base.origin} within ${TIMEOUT_MS / 1000} s`)));
      outgoing.on('error', reject);
      outgoing.end(options.body);
    });
  }
  return { base, cookies, request };
}

/** One header as text ('' when absent; repeated headers joined as node does). */
export function headerOf(response: SiteResponse, name: string): string {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}
