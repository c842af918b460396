import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';
import type { Config, ConfigSection } from '../config.js';
import { isAddressOrRange } from './addresses.js';

/*
 * Which peers may say who the client is. A proxy that appends to X-Forwarded-For (nginx's common
 * $proxy_add_x_forwarded_for, HAProxy's option forwardfor) passes on whatever the client wrote
 * there, so the client is the address the last trusted proxy saw: the header is walked from the
 * right, past trusted proxies only (proxy-addr, as Express does). Logins, address blocks and
 * media budgets all count that address.
 */

export type TrustedProxies =
  | { readonly mode: 'none' }
  /** Addresses and CIDR ranges, or proxy-addr's names loopback, linklocal and uniquelocal. */
  | { readonly mode: 'list'; readonly entries: readonly string[] };

const NAMED_RANGES: ReadonlySet<string> = new Set(['loopback', 'linklocal', 'uniquelocal']);
const OFF = new Set(['', 'false', '0', 'no', 'off']);
const ON = new Set(['true', '1', 'yes', 'on']);

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

const ALLOWED = 'false, or a comma-separated list of the proxies\' addresses (IP or CIDR, or loopback), such as 127.0.0.1';

function parseTrust(raw: unknown, core: Config): ReturnType<ConfigSection<TrustedProxies>['parse']> {
  const text = (raw === undefined || raw === null ? '' : String(raw)).trim().toLowerCase();
  if (OFF.has(text)) return { ok: true, value: { mode: 'none' } };
  if (ON.has(text)) {
    // "Any peer" would let every client name its own address. On loopback the only peers are
    // this machine's own processes, so `true` there means: trust the proxy on this machine.
    if (isLoopbackHost(core.host)) return { ok: true, value: { mode: 'list', entries: ['loopback'] } };
    return {
      ok: false,
      problems: [
        `${JSON.stringify(String(raw))} would trust every client that connects to ${core.host} to name its own address; expected ${ALLOWED}`,
      ],
    };
  }
  const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  const bad = entries.filter((entry) => !NAMED_RANGES.has(entry) && !isAddressOrRange(entry));
  if (bad.length > 0) return { ok: false, problems: [`${JSON.stringify(String(raw))}: ${bad.map((entry) => JSON.stringify(entry)).join(', ')} is not an address; expected ${ALLOWED}`] };
  return { ok: true, value: { mode: 'list', entries } };
}

/** KEEPSAKE_TRUST_PROXY, or `trustProxy` in the config file. */
export const trustProxySection: ConfigSection<TrustedProxies> = { env: 'KEEPSAKE_TRUST_PROXY', envFormat: 'text', parse: parseTrust };

export type ProxyTrust = (address: string, hop: number) => boolean;

export function compileProxyTrust(trusted: TrustedProxies): ProxyTrust {
  return trusted.mode === 'none' ? () => false : proxyAddr.compile([...trusted.entries]);
}

/** The client's address: the peer, or the first address left of the trusted proxies in X-Forwarded-For. */
export function clientAddressOf(request: IncomingMessage, trust: ProxyTrust): string {
  return proxyAddr(request, trust);
}

/** True when the peer itself is a trusted proxy, so its X-Forwarded-Proto and -Host count. */
export function isTrustedPeer(request: IncomingMessage, trust: ProxyTrust): boolean {
  return trust(request.socket.remoteAddress ?? '', 0);
}
