import { createHash, randomBytes } from 'node:crypto';
import type { KeyInput } from '../auth/index.js';
import { UserError } from '../errors.js';
import type { AccessStore, KeyRecord, Receipt, SessionRecord } from '../store/index.js';

/*
 * Named devices. `keepsake device add "Grandma's iPad"` makes a key for that one device (its
 * password is made and never shown) and a one-time enrolment link for it, printed as a card.
 * Opening the link and pressing its button (a POST: a chat's link preview fetches only the GET)
 * makes a long-lived session on that device; the link then is used up. A visitor who logged in
 * with a password may also name the device they are on ("remember this device as …"). Both
 * appear in `keepsake device list`, and `keepsake device remove` ends them at once.
 */

export class DeviceError extends UserError {
  declare readonly code: 'NO_SUCH_DEVICE' | 'BAD_DEVICE_NAME';

  constructor(code: DeviceError['code'], message: string) {
    super(code, message);
  }
}

/** A device name: what the admin or the visitor calls it ("Grandma's iPad"). */
const DEVICE_NAME = /^[\p{L}\p{N}][\p{L}\p{N} '’._-]{0,63}$/u;

export function isDeviceName(name: string): boolean {
  return DEVICE_NAME.test(name);
}

/** A one-time link's secret (an enrolment card, the admin's preview): 32 random bytes; only its SHA-256 is kept. */
export function newOneTimeCode(): string {
  return randomBytes(32).toString('base64url');
}

export function codeHashOf(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

export const ENROLMENT_CODE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A named device, as `device list` shows it. */
export interface DeviceEntry {
  readonly name: string;
  /** `card`: a device key entered by enrolment link; `named`: a session its visitor named. */
  readonly kind: 'card' | 'named';
  readonly albums: readonly string[];
  readonly canDownloadOriginals: boolean;
  /** A card not used yet: when it stops working. */
  readonly enrolUntil: number | undefined;
  readonly lastSeen: number | undefined;
  readonly online: boolean;
}

/** Seen this recently, a device with a live session is online. */
export const ONLINE_WITHIN_MS = 5 * 60_000;

export interface DeviceDeps {
  readonly store: AccessStore;
  readonly addKey: (input: KeyInput) => Promise<{ key: KeyRecord; password: string }>;
  readonly removeKey: (label: string) => Promise<{ key: KeyRecord; ended: number }>;
  readonly endAll: (sessions: readonly SessionRecord[]) => Promise<number>;
  readonly openFor: (key: KeyRecord, maxAge: number) => Promise<{ session: SessionRecord; maxAge: number }>;
  /** How long a device's session lasts (renewed as it is used; never past the key's expiry). */
  readonly deviceTtl: number;
  readonly now: () => number;
  readonly forgetSession: (sid: string) => void;
}

export type EnrolmentCheck =
  | { readonly state: 'open'; readonly key: KeyRecord; readonly expiresAt: number }
  | { readonly state: 'used' | 'expired' | 'unknown' };

export function createDevices(deps: DeviceDeps) {
  const { store, now } = deps;

  async function check(code: string): Promise<EnrolmentCheck> {
    if (!ENROLMENT_CODE_PATTERN.test(code)) return { state: 'unknown' };
    const enrolment = await store.enrolments.byHash(codeHashOf(code));
    const key = enrolment === undefined ? undefined : await store.keys.byId(enrolment.keyId);
    if (enrolment === undefined || key === undefined) return { state: 'unknown' };
    if (enrolment.usedAt !== null) return { state: 'used' };
    if (enrolment.expiresAt <= now() || (key.expiresAt !== null && key.expiresAt <= now())) return { state: 'expired' };
    return { state: 'open', key, expiresAt: enrolment.expiresAt };
  }

  const lastSeenOf = (receipts: readonly Receipt[]): number | undefined => (receipts.length === 0 ? undefined : Math.max(...receipts.map((receipt) => receipt.lastSeen)));

  return {
    /** A device key and its one-time enrolment link's code (shown once, kept only as a hash). */
    async addDevice(input: Omit<KeyInput, 'password' | 'device'> & { readonly validForMs: number }): Promise<{ key: KeyRecord; code: string; enrolUntil: number }> {
      if (!isDeviceName(input.label)) throw new DeviceError('BAD_DEVICE_NAME', `device name ${JSON.stringify(input.label)}: expected 1–64 letters, digits, spaces, ' . _ or -`);
      const { key } = await deps.addKey({ ...input, device: true });
      const code = newOneTimeCode();
      const enrolUntil = Math.min(now() + input.validForMs, key.expiresAt ?? Number.POSITIVE_INFINITY);
      await store.enrolments.add({ codeHash: codeHashOf(code), keyId: key.id, createdAt: now(), expiresAt: enrolUntil });
      return { key, code, enrolUntil };
    },

    checkEnrolment: check,

    /** Uses the card: a long-lived session for its device, or why not. Only once, whoever races for it. */
    async enrol(code: string): Promise<{ state: 'enrolled'; session: SessionRecord; maxAge: number } | { state: Exclude<EnrolmentCheck['state'], 'open'> }> {
      const checked = await check(code);
      if (checked.state !== 'open') return checked;
      if (!(await store.enrolments.take(codeHashOf(code), now()))) return { state: 'used' };
      const opened = await deps.openFor(checked.key, deps.deviceTtl);
      await store.sessions.setDeviceName(opened.session.sid, checked.key.label);
      return { state: 'enrolled', session: { ...opened.session, deviceName: checked.key.label }, maxAge: opened.maxAge };
    },

    /** The visitor names the device of their own session; an empty name forgets it. */
    async nameDevice(sid: string, name: string): Promise<string | null> {
      const trimmed = name.trim();
      if (trimmed !== '' && !isDeviceName(trimmed)) throw new DeviceError('BAD_DEVICE_NAME', 'Use up to 64 letters, digits, spaces and \' . _ -, starting with a letter or digit.');
      await store.sessions.setDeviceName(sid, trimmed === '' ? null : trimmed);
      deps.forgetSession(sid);
      return trimmed === '' ? null : trimmed;
    },

    /** Every named device: device keys (used or not) and sessions their visitors named. */
    async listDevices(): Promise<DeviceEntry[]> {
      const at = now();
      const live = await store.sessions.live(at);
      const entries: DeviceEntry[] = [];
      for (const key of (await store.keys.all()).filter((candidate) => candidate.device)) {
        const sessions = live.filter((session) => session.keyId === key.id);
        const lastSeen = lastSeenOf(await store.receipts.byKey(key.id));
        const unused = (await store.enrolments.byKey(key.id)).find((card) => card.usedAt === null && card.expiresAt > at);
        entries.push({ name: key.label, kind: 'card', albums: key.albums, canDownloadOriginals: key.canDownloadOriginals, enrolUntil: unused?.expiresAt, lastSeen, online: sessions.length > 0 && lastSeen !== undefined && at - lastSeen < ONLINE_WITHIN_MS });
      }
      const deviceKeys = new Set(entries.map((entry) => entry.name));
      for (const session of await store.sessions.named(at)) {
        if (session.deviceName === null || deviceKeys.has(session.deviceName)) continue;
        const lastSeen = (await store.receipts.bySid(session.sid))?.lastSeen;
        entries.push({ name: session.deviceName, kind: 'named', albums: session.albums, canDownloadOriginals: session.canDownloadOriginals, enrolUntil: undefined, lastSeen, online: lastSeen !== undefined && at - lastSeen < ONLINE_WITHIN_MS });
      }
      return entries.sort((a, b) => a.name.localeCompare(b.name));
    },

    /** Ends a device at once: a device key goes with its sessions and links; a named session ends. Returns what it had fetched. */
    async removeDevice(name: string): Promise<{ ended: number; receipts: Receipt[] }> {
      const key = await store.keys.byLabel(name);
      if (key?.device === true) {
        const receipts = await store.receipts.byKey(key.id);
        const { ended } = await deps.removeKey(name);
        return { ended, receipts };
      }
      const named = (await store.sessions.named(now())).filter((session) => session.deviceName === name);
      if (named.length === 0) throw new DeviceError('NO_SUCH_DEVICE', `no device named "${name}"; see: keepsake device list`);
      const receipts = (await Promise.all(named.map((session) => store.receipts.bySid(session.sid)))).filter((receipt): receipt is Receipt => receipt !== undefined);
      return { ended: await deps.endAll(named), receipts };
    },
  };
}
