import { PREVIEW_VIEW, type SessionLinks } from '../links/index.js';
import type { AccessStore } from '../store/index.js';
import { codeHashOf, newOneTimeCode } from './devices.js';

/*
 * The admin's preview of albums waiting for review (keepsake review --serve): a one-time link,
 * kept only as its SHA-256, that opens an hour's session seeing every album, those waiting too.
 * The HTTP layer lets it answer only on loopback (http/preview-session.ts).
 */

/** How long a preview link works, and how long the preview it opens lasts. */
const PREVIEW_LINK_MS = 15 * 60_000;
const PREVIEW_SESSION_MS = 3600_000;

export interface PreviewDeps {
  readonly store: AccessStore;
  readonly sessionLinks: SessionLinks;
  /** Brings the preview's view in line with every album, waiting ones included. */
  readonly syncPreviewView: () => Promise<void>;
  readonly now: () => number;
}

export function createPreviews(deps: PreviewDeps) {
  const { store, now } = deps;
  return {
    /** A one-time link to the admin's preview; its code, shown once. */
    async createPreviewLink(): Promise<{ code: string; expiresAt: number }> {
      const code = newOneTimeCode();
      const expiresAt = now() + PREVIEW_LINK_MS;
      await store.previewLinks.prune(now());
      await store.previewLinks.add(codeHashOf(code), expiresAt);
      return { code, expiresAt };
    },

    /** Uses a preview link once: an hour's session that sees every album; undefined when the link is used, expired or unknown. */
    async openPreview(code: string): Promise<{ session: Awaited<ReturnType<SessionLinks['open']>>; maxAge: number } | undefined> {
      if (!(await store.previewLinks.take(codeHashOf(code), now()))) return undefined;
      await deps.syncPreviewView();
      const session = await deps.sessionLinks.open({
        keyId: null,
        shareId: null,
        label: 'review preview',
        albums: ['*'],
        canDownloadOriginals: true,
        view: PREVIEW_VIEW,
        maxAge: PREVIEW_SESSION_MS,
        expiresCap: now() + PREVIEW_SESSION_MS,
        location: 'none',
        preview: true,
      });
      return { session, maxAge: PREVIEW_SESSION_MS };
    },
  };
}
