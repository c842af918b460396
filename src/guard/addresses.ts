import ipaddr from 'ipaddr.js';
import { boundedMemo } from '../bounded-memo.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Parsed ranges: each an address and its prefix length. Parse once, match per request. */
export type AddressList = readonly (readonly [Address, number])[];

/**
 * Strict parsing: ipaddr.js alone also accepts `10`, `0x7f.1` and other historic IPv4 spellings,
 * which in a block list would silently mean something else than the admin thought.
 */
function parseStrict(text: string): Address | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text);
  return undefined;
}

function parseRange(entry: string): readonly [Address, number] | undefined {
  const [text = '', bits, ...rest] = entry.trim().split('/');
  const address = parseStrict(text);
  if (address === undefined || rest.length > 0) return undefined;
  const maxBits = address.kind() === 'ipv4' ? 32 : 128;
  if (bits === undefined) return [address, maxBits];
  const prefix = /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  return prefix <= maxBits ? [address, prefix] : undefined;
}

/** True when `entry` is an IPv4 or IPv6 address or CIDR range that parseAddressList accepts. */
export function isAddressOrRange(entry: string): boolean {
  return parseRange(entry) !== undefined;
}

/** Parses IPs and CIDR ranges (IPv4 and IPv6); throws naming the bad entry. */
export function parseAddressList(entries: readonly string[]): AddressList {
  return entries.map((entry) => {
    const range = parseRange(entry);
    if (range === undefined) {
      throw new Error(`address ${JSON.stringify(entry)}: expected an IPv4 or IPv6 address or CIDR range, such as 203.0.113.7, 116.204.0.0/16 or 2001:db8::/32`);
    }
    return range;
  });
}

/**
 * The forms an address can be matched in, IPv4 first: a dual-stack socket reports IPv4 clients
 * as `::ffff:a.b.c.d`, and an admin may write either spelling in a list.
 */
function parseForms(address: string): readonly Address[] {
  if (!ipaddr.isValid(address)) return [];
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return [parsed, (parsed as ipaddr.IPv4).toIPv4MappedAddress()];
  if ((parsed as ipaddr.IPv6).isIPv4MappedAddress()) return [(parsed as ipaddr.IPv6).toIPv4Address(), parsed];
  return [parsed];
}

/** Addresses remembered parsed: every request asks for its client's several times (trust, lists, budgets). */
const ADDRESSES_KEPT = 10_000;
const knownForms = boundedMemo(parseForms, { limit: ADDRESSES_KEPT, maxKeyLength: 64 });

function formsOf(address: string | undefined): readonly Address[] {
  return address === undefined ? [] : knownForms(address);
}

/** The first range in `list` holding `address` (as `range/bits`), or undefined. */
export function findAddressInList(address: string | undefined, list: AddressList): string | undefined {
  if (list.length === 0) return undefined;
  for (const form of formsOf(address)) {
    const hit = list.find(([range, bits]) => range.kind() === form.kind() && form.match(range, bits));
    if (hit !== undefined) return `${hit[0].toString()}/${hit[1]}`;
  }
  return undefined;
}

/** True when `address` (as a socket reports it, IPv4-mapped IPv6 included) lies in the list. */
export function isAddressInList(address: string | undefined, list: AddressList): boolean {
  return findAddressInList(address, list) !== undefined;
}

/**
 * The key under which an address is counted by the rate limiters. One IPv6 host usually holds a
 * whole /64 and can rotate through it at will, so IPv6 is counted per prefix (/64 by default; a
 * home connection is usually given a /56, so logins are counted per /56); IPv4-mapped IPv6 is
 * counted as the IPv4 address it is.
 */
export function addressKey(address: string, ipv6PrefixBits: 48 | 56 | 64 = 64): string {
  return knownKeys[ipv6PrefixBits](address);
}

function computeAddressKey(address: string, ipv6PrefixBits: 48 | 56 | 64): string {
  const [form] = formsOf(address);
  if (form === undefined) return address;
  if (form.kind() === 'ipv4') return form.toString();
  const network = ipaddr.IPv6.networkAddressFromCIDR(`${form.toString()}/${ipv6PrefixBits}`);
  return `${network.toString()}/${ipv6PrefixBits}`;
}

const knownKeys = {
  48: boundedMemo((address) => computeAddressKey(address, 48), { limit: ADDRESSES_KEPT, maxKeyLength: 64 }),
  56: boundedMemo((address) => computeAddressKey(address, 56), { limit: ADDRESSES_KEPT, maxKeyLength: 64 }),
  64: boundedMemo((address) => computeAddressKey(address, 64), { limit: ADDRESSES_KEPT, maxKeyLength: 64 }),
} as const;
