import type { Context } from 'koa';
import type { Config } from '../../config.js';
import { verifyShareLink } from '../../guard/index.js';
import { shareViewName, shareViewSpec, type SessionLinks, type Views } from '../../links/index.js';
import type { Library } from '../../library/index.js';
import type { Logger } from '../../log.js';
import type { ShareRecord, SharesTable } from '../../store/index.js';
import type { Ui } from '../../ui/index.js';
import { isSameOriginRequest } from '../same-origin.js';
import { startSession } from '../session.js';

export interface ShareDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly ui: Ui;
  readonly shares: SharesTable;
  readonly views: Views;
  readonly library: Library;
  readonly sessionLinks: SessionLinks;
  readonly guardSecret: string;
  readonly linkSecret: string;
  readonly derivativeVariants: readonly string[];
}

type Checked = { ok: true; share: ShareRecord } | { ok: false; status: number; title: string; message: string };

const NOT_VALID = { ok: false, status: 404, title: 'This link is not valid', message: 'Check that the whole link was copied, or ask whoever sent it for a new one.' } as const;
const NOT_OPEN = { ok: false, status: 410, title: 'This link has closed', message: 'It has expired, been used up or been withdrawn. Ask whoever sent it for a new one.' } as const;

function albumHref(album: string): string {
  return `/albums/${album.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * Signed share links (`/s/<payload>.<mac>`): GET shows a page with a button, POST opens an
 * ordinary session limited to the album, ending no later than the link. A tampered,
 * expired, revoked or used-up link gets a clear page and no session.
 */
export function shareRoutes(deps: ShareDeps) {
  function check(ctx: Context): Checked {
    const verified = verifyShareLink(ctx.path, deps.guardSecret);
    if (!verified.ok) {
      deps.log.warn({ address: ctx.ip, reason: verified.reason }, 'share link refused');
      return verified.reason === 'expired' ? NOT_OPEN : NOT_VALID;
    }
    const share = deps.shares.byId(verified.share.id);
    if (share === undefined || share.album !== verified.share.album) return NOT_VALID;
    const usedUp = share.maxUses !== null && share.uses >= share.maxUses;
    if (share.revokedAt !== null || share.expiresAt <= Date.now() || usedUp) return NOT_OPEN;
    return { ok: true, share };
  }

  function page(ctx: Context, status: number, title: string, message: string, action?: string): void {
    ctx.status = status;
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'html';
    ctx.body = deps.ui.renderSharePage({ title, message, action });
  }

  return {
    show(ctx: Context): void {
      const checked = check(ctx);
      if (!checked.ok) return page(ctx, checked.status, checked.title, checked.message);
      const until = new Date(checked.share.expiresAt).toUTCString();
      page(ctx, 200, 'Photos shared with you', `An album was shared with you until ${until}.`, ctx.path);
    },
    async open(ctx: Context): Promise<void> {
      if (!isSameOriginRequest(ctx, deps.config.publicUrl)) return page(ctx, 403, 'This link is not valid', 'Open it from this site.');
      const checked = check(ctx);
      if (!checked.ok) return page(ctx, checked.status, checked.title, checked.message);
      const { share } = checked;
      // Counted atomically: two people racing for the last use cannot both get in.
      if (!deps.shares.takeUse(share.id, Date.now())) return page(ctx, NOT_OPEN.status, NOT_OPEN.title, NOT_OPEN.message);
      await deps.views.sync(shareViewSpec(share, ['video', ...deps.derivativeVariants]), deps.library.albumPaths());
      const maxAge = Math.min(deps.config.sessionTtlMs, share.expiresAt - Date.now());
      const record = await deps.sessionLinks.open({
        keyId: null,
        shareId: share.id,
        label: `share ${share.album}`,
        albums: [share.album],
        canDownloadOriginals: share.canDownloadOriginals,
        view: shareViewName(share.id),
        maxAge,
        expiresCap: share.expiresAt,
      });
      await startSession(ctx, record.sid, record.token, maxAge, deps.linkSecret);
      deps.log.info({ address: ctx.ip, share: share.id }, 'share link opened');
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 303;
      ctx.redirect(albumHref(share.album));
    },
  };
}
