import { customAlphabet } from 'nanoid';
import { normalisePattern, type AlbumPlace, type KeyInput, type Keyring } from '../auth/index.js';
import { UserError } from '../errors.js';
import { signShareLink, verifyShareLink } from '../guard/index.js';
import { keyViewName, keyViewSpec, PREVIEW_VIEW_SPEC, shareViewName, shareViewSpec, syncGrantViews, type SessionLinks, type ViewSpec, type Views } from '../links/index.js';
import type { Logger } from '../log.js';
import { isToken } from '../media-contract.js';
import type { AccessStore, KeyRecord, Receipt, SessionRecord, ShareRecord } from '../store/index.js';
import { createDevices } from './devices.js';
import { createLiveSessions } from './live-sessions.js';
import { createPreviews } from './previews.js';

/*
 * Every way in and out, in one place: logging in, opening a share link, ending a session,
 * revoking a key, a share or sessions, sweeping, and keeping the per-key views in line with
 * the albums. The HTTP routes and the command line only parse their input, call one of these
 * and format the answer. Keys, sessions and shares are reached through the store's async ports.
 */

export class AccessError extends UserError {
  declare readonly code: 'NO_SUCH_KEY' | 'NO_SUCH_SESSION' | 'NO_SUCH_SHARE' | 'NO_SUCH_ALBUM' | 'BAD_SHARE';

  constructor(code: AccessError['code'], message: string) {
    super(code, message);
  }
}

export interface AccessDeps {
  readonly store: AccessStore;
  readonly keyring: Keyring;
  readonly sessionLinks: SessionLinks;
  readonly views: Views;
  /** The catalogue's albums, with where each really is. */
  readonly albums: () => readonly AlbumPlace[];
  /** The same with the albums waiting for review (the admin's preview). */
  readonly previewAlbums: () => readonly AlbumPlace[];
  /** Signs share links (`<stateDir>/secrets/guard-key`). */
  readonly shareSecret: string;
  /** How long sessions last: a login, a "remember me" login, a device entered by its card. */
  readonly ttl: { readonly session: number; readonly remember: number; readonly device: number };
  readonly log: Logger;
  readonly now?: () => number;
}

/** A session just opened, and how long its cookies may live. */
export interface OpenedSession {
  readonly session: SessionRecord;
  readonly maxAge: number;
}

export type LoginResult =
  | ({ readonly outcome: 'accepted' } & OpenedSession)
  | { readonly outcome: 'rejected' }
  | { readonly outcome: 'expired' };

export type ShareCheck =
  | { readonly state: 'open'; readonly share: ShareRecord }
  /** Not a link this server signed for a share it knows: tampered, malformed, or made up. */
  | { readonly state: 'invalid'; readonly reason: string }
  /** A real link that no longer opens: expired, used up or revoked. */
  | { readonly state: 'closed'; readonly reason: string };

export interface NewShare {
  readonly album: string;
  readonly ttlMs: number;
  readonly canDownloadOriginals: boolean;
  readonly maxUses: number | null;
}

const newShareId = customAlphabet('abcdefghijkmnpqrstuvwxyz23456789', 10);


export type Access = ReturnType<typeof createAccess>;

export function createAccess(deps: AccessDeps) {
  const { store, keyring, sessionLinks, views, log } = deps;
  const now = deps.now ?? Date.now;
  const live = createLiveSessions({ sessions: store.sessions, hasLink: sessionLinks.hasLink, now });
  // Every change to the views runs one after another: two at once would each see the other's
  // half-placed links, and a full sync could remove a view a new key has just been given.
  let viewWork: Promise<unknown> = Promise.resolve();
  function serially<T>(work: () => Promise<T>): Promise<T> {
    const done = viewWork.catch(() => undefined).then(work);
    viewWork = done;
    return done;
  }

  /** The albums waiting for review: catalogued (`all`, as the preview sees them) but not `shown` to any key or share. */
  function withheldAlbums(shown: readonly AlbumPlace[], all: readonly AlbumPlace[] = deps.previewAlbums()): AlbumPlace[] {
    const paths = new Set(shown.map((album) => album.path));
    return all.filter((album) => !paths.has(album.path));
  }

  /** Brings one key's or share's view in line with the albums shown now. */
  function syncView(spec: ViewSpec, shown: readonly AlbumPlace[] = deps.albums()): Promise<void> {
    return views.sync(spec, shown, withheldAlbums(shown));
  }

  async function openFor(key: KeyRecord, remember: boolean): Promise<OpenedSession> {
    return openForKey(key, remember ? deps.ttl.remember : deps.ttl.session);
  }

  async function openForKey(key: KeyRecord, maxAge: number): Promise<OpenedSession> {
    const session = await sessionLinks.open({
      keyId: key.id,
      shareId: null,
      label: key.label,
      albums: key.albums,
      canDownloadOriginals: key.canDownloadOriginals,
      view: keyViewName(key.id),
      maxAge,
      expiresCap: key.expiresAt,
      location: key.location,
    });
    return { session, maxAge: Math.min(maxAge, session.expiresAt - session.createdAt) };
  }

  function shareState(share: ShareRecord | undefined, album: string): ShareCheck {
    if (share === undefined || share.album !== album) return { state: 'invalid', reason: 'unknown share' };
    if (share.revokedAt !== null) return { state: 'closed', reason: 'revoked' };
    if (share.expiresAt <= now()) return { state: 'closed', reason: 'expired' };
    if (share.maxUses !== null && share.uses >= share.maxUses) return { state: 'closed', reason: 'used up' };
    return { state: 'open', share };
  }

  async function sessionsNamed(target: string): Promise<SessionRecord[]> {
    const byToken = isToken(target) ? await store.sessions.byToken(target) : undefined;
    return byToken === undefined ? store.sessions.byLabel(target) : [byToken];
  }

  async function addKey(input: KeyInput): Promise<{ key: KeyRecord; password: string }> {
    const added = await keyring.add(input);
    await serially(() => syncView(keyViewSpec(added.key)));
    return added;
  }

  async function removeKey(label: string): Promise<{ key: KeyRecord; ended: number }> {
    const key = await keyring.byLabel(label);
    if (key === undefined) throw new AccessError('NO_SUCH_KEY', `no key labelled "${label}"; see: keepsake key list`);
    const ended = await sessionLinks.endAll(await store.sessions.byKey(key.id));
    await keyring.remove(label);
    await serially(() => views.remove(keyViewName(key.id)));
    return { key, ended };
  }

  async function openShares(): Promise<ShareRecord[]> {
    const at = now();
    return (await store.shares.all()).filter((share) => share.revokedAt === null && share.expiresAt > at);
  }

  return {
    /** A login with a shared password: a new session and its token link, or why not. */
    async login(password: string, options: { remember: boolean }): Promise<LoginResult> {
      if (password === '') return { outcome: 'rejected' };
      const result = await keyring.authenticate(password);
      if (result.outcome !== 'accepted') return { outcome: result.outcome };
      return { outcome: 'accepted', ...(await openFor(result.key, options.remember)) };
    },

    /** What a share link's path opens, checked against its signature and the share's state. */
    async checkShareLink(path: string): Promise<ShareCheck> {
      const verified = verifyShareLink(path, deps.shareSecret, now());
      if (!verified.ok) return verified.reason === 'expired' ? { state: 'closed', reason: 'expired' } : { state: 'invalid', reason: verified.reason };
      return shareState(await store.shares.byId(verified.share.id), verified.share.album);
    },

    /** Opens a session limited to the share's album, ending no later than the share; undefined when used up meanwhile. */
    async openShare(share: ShareRecord): Promise<OpenedSession | undefined> {
      // Counted atomically: two people racing for the last use cannot both get in.
      if (!(await store.shares.takeUse(share.id, now()))) return undefined;
      await serially(() => syncView(shareViewSpec(share)));
      const maxAge = Math.min(deps.ttl.session, share.expiresAt - now());
      const session = await sessionLinks.open({
        keyId: null,
        shareId: share.id,
        label: `share ${share.album}`,
        albums: [share.album],
        canDownloadOriginals: share.canDownloadOriginals,
        view: shareViewName(share.id),
        maxAge,
        expiresCap: share.expiresAt,
        // A share link is for anyone who holds it: never told places.
        location: 'none',
      });
      return { session, maxAge };
    },

    /** Ends one session: its link, then its row (kept, with a WebRootError, when the link cannot go). False when there was no such session. */
    async endSession(sid: string): Promise<boolean> {
      live.forget(sid);
      return sessionLinks.end(sid);
    },

    /** The live session behind a cookie's id: active, unexpired and with its token link in place. */
    liveSession: (sid: string): Promise<SessionRecord | undefined> => live.find(sid),

    /** Renews a session up to `expiresAt` (never past its key's or share's expiry); the new expiry, or undefined when it is gone. */
    extendSession: (sid: string, expiresAt: number): Promise<number | undefined> => live.extend(sid, expiresAt),

    /** Ends the session with this token, or every session with this label. */
    async revokeSessions(target: string): Promise<number> {
      const records = await sessionsNamed(target);
      if (records.length === 0) throw new AccessError('NO_SUCH_SESSION', `no session with token or label "${target}"; see: keepsake sessions`);
      return sessionLinks.endAll(records);
    },

    liveSessions: (): Promise<SessionRecord[]> => store.sessions.live(now()),

    /**
     * The exposure receipts of a token, a label (a key's, a device card's, a share's `share <album>`)
     * or the name a visitor gave their device,
     * oldest first, each with whether its session is still live.
     */
    async receiptsOf(target: string): Promise<Array<{ receipt: Receipt; live: boolean }>> {
      // A label may be shaped like a token ("grandparents"): a token's receipt first, else the label's.
      const byToken = isToken(target) ? await store.receipts.byToken(target) : [];
      const byLabel = byToken.length > 0 ? byToken : await store.receipts.byLabel(target);
      const liveSessions = await store.sessions.live(now());
      // A device a visitor named goes by that name: its live sessions' receipts.
      const named = liveSessions.filter((session) => session.deviceName === target).map((session) => session.sid);
      const byDevice = byLabel.length > 0 || named.length === 0 ? [] : (await Promise.all(named.map((sid) => store.receipts.bySid(sid)))).filter((receipt): receipt is Receipt => receipt !== undefined);
      const receipts = byLabel.length > 0 ? byLabel : byDevice;
      const live = new Set(liveSessions.map((session) => session.sid));
      return receipts.map((receipt) => ({ receipt, live: live.has(receipt.sid) }));
    },

    /** Every receipt of the sessions a share link opened. */
    shareReceipts: (shareId: string): Promise<Receipt[]> => store.receipts.byShare(shareId),

    addKey,

    /** Removes a key, ending all its sessions and their links first. */
    removeKey,

    ...createDevices({
      store,
      addKey,
      removeKey,
      endAll: (sessions) => sessionLinks.endAll(sessions),
      openFor: openForKey,
      deviceTtl: deps.ttl.device,
      now,
      // A renamed session is read afresh: the remembered record holds its old name.
      forgetSession: (sid) => live.forget(sid),
    }),

    /** Every key, with how many live sessions it has now. */
    async listKeys(): Promise<Array<{ key: KeyRecord; liveSessions: number }>> {
      const live = await store.sessions.live(now());
      return (await keyring.list()).map((key) => ({ key, liveSessions: live.filter((session) => session.keyId === key.id).length }));
    },

    /** A signed, expiring link to one album: the share and the link's path. */
    async createShare(request: NewShare): Promise<{ share: ShareRecord; path: string }> {
      const album = normalisePattern(request.album);
      if (album.includes('*')) throw new AccessError('BAD_SHARE', `share ${JSON.stringify(request.album)}: expected one album path, not a pattern`);
      const known = deps.albums();
      if (!known.some((place) => place.path === album)) {
        const some = known.slice(0, 10).map((place) => place.path).join(', ');
        throw new AccessError('NO_SUCH_ALBUM', `no album "${album}" in the catalogue (start the server once so it scans the media root); albums: ${some}`);
      }
      const createdAt = now();
      const share: ShareRecord = {
        id: newShareId(),
        album,
        canDownloadOriginals: request.canDownloadOriginals,
        expiresAt: createdAt + request.ttlMs,
        maxUses: request.maxUses,
        uses: 0,
        createdAt,
        revokedAt: null,
      };
      await store.shares.add(share);
      await serially(() => syncView(shareViewSpec(share), known));
      const grant = { id: share.id, album, expiresAt: share.expiresAt, canDownloadOriginals: share.canDownloadOriginals, uses: share.maxUses ?? undefined };
      return { share, path: signShareLink(grant, deps.shareSecret) };
    },

    /** Closes a share link and ends every session it opened. */
    async revokeShare(id: string): Promise<number> {
      if ((await store.shares.byId(id)) === undefined) throw new AccessError('NO_SUCH_SHARE', `no share link with id "${id}"; see: keepsake share list`);
      await store.shares.revoke(id, now());
      const ended = await sessionLinks.endAll(await store.sessions.byShare(id));
      await serially(() => views.remove(shareViewName(id)));
      return ended;
    },

    listShares: (): Promise<ShareRecord[]> => store.shares.all(),

    sweep: (): Promise<{ expired: number; orphans: number }> => sessionLinks.sweep(),

    /** At start-up, before listening: leftovers of a crash go. */
    reconcile: (): Promise<{ removed: number }> => sessionLinks.reconcile(),

    /** Brings every key's and open share's view (and a live preview's) in line with the current albums. */
    syncViews(): Promise<void> {
      return serially(async () => {
        const previewing = (await store.sessions.live(now())).some((session) => session.preview);
        const [shown, all] = [deps.albums(), deps.previewAlbums()];
        await syncGrantViews(views, async () => ({ keys: await keyring.list(), shares: await openShares() }), shown, withheldAlbums(shown, all), previewing ? all : undefined);
      });
    },

    ...createPreviews({
      store,
      sessionLinks,
      syncPreviewView: () => serially(() => views.sync(PREVIEW_VIEW_SPEC, deps.previewAlbums())),
      now,
    }),

    /** The first start: a key `family` that opens every album, with its password to show once. */
    async ensureFirstKey(): Promise<string | undefined> {
      if ((await keyring.count()) > 0) return undefined;
      let password: string;
      try {
        ({ password } = await addKey({ label: 'family', albums: ['*'], canDownloadOriginals: true }));
      } catch (error) {
        // Several nodes started on one new database: another made it first.
        if ((error as { code?: string }).code === 'KEY_EXISTS') return undefined;
        throw error;
      }
      log.info({ label: 'family' }, 'made the first key');
      return password;
    },
  };
}
