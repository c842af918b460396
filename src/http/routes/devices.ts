import type { Context } from 'koa';
import { DeviceError, type Access, type EnrolmentCheck } from '../../access/index.js';
import type { Logger } from '../../log.js';
import { CACHE_POLICY, ENROL_PATH_PREFIX } from '../../media-contract.js';
import type { Ui } from '../../ui/index.js';
import { isSameOriginRequest } from '../same-origin.js';
import { answerCardPage, type Words } from './card-page.js';
import { displayOf } from '../display.js';
import { startSession, visitorOf } from '../session.js';

export interface DeviceRouteDeps {
  readonly publicUrl: string | undefined;
  readonly log: Logger;
  readonly ui: Ui;
  readonly access: Access;
}

const CLOSED: Readonly<Record<Exclude<EnrolmentCheck['state'], 'open'>, { status: number; title: Words; message: Words }>> = {
  unknown: { status: 404, title: 'enrol.unknownTitle', message: 'enrol.unknownText' },
  used: { status: 410, title: 'enrol.usedTitle', message: 'enrol.usedText' },
  expired: { status: 410, title: 'enrol.expiredTitle', message: 'enrol.expiredText' },
};

/**
 * `/enrol/<code>`: a device's enrolment card. GET shows a button and changes nothing (a chat's
 * link preview must not use the card up); POST, from this site only, uses it once and starts
 * the device's long-lived session. `/device`: a logged-in visitor names the device they are on.
 */
export function deviceRoutes(deps: DeviceRouteDeps) {
  const page = (ctx: Context, status: number, title: Words, message: Words, action?: string): void =>
    answerCardPage(ctx, deps.ui, { status, title, message, action, button: 'enrol.button' });
  const codeOf = (ctx: Context): string => ctx.path.slice(ENROL_PATH_PREFIX.length);

  function devicePage(ctx: Context, status: number, options: { name: string | null; error?: string; saved?: boolean }): void {
    ctx.status = status;
    ctx.set('Cache-Control', CACHE_POLICY.page);
    ctx.type = 'html';
    ctx.body = deps.ui.renderDevicePage({ display: displayOf(ctx), ...options });
  }

  return {
    async showCard(ctx: Context): Promise<void> {
      const checked = await deps.access.checkEnrolment(codeOf(ctx));
      if (checked.state !== 'open') return page(ctx, CLOSED[checked.state].status, CLOSED[checked.state].title, CLOSED[checked.state].message);
      page(ctx, 200, ['enrol.title', { label: checked.key.label }], ['enrol.text', { label: checked.key.label }], ctx.path);
    },
    async useCard(ctx: Context): Promise<void> {
      if (!isSameOriginRequest(ctx, deps.publicUrl)) return page(ctx, 403, CLOSED.unknown.title, 'card.openHere');
      const result = await deps.access.enrol(codeOf(ctx));
      if (result.state !== 'enrolled') {
        deps.log.warn({ address: ctx.ip, reason: result.state }, 'enrolment card refused');
        return page(ctx, CLOSED[result.state].status, CLOSED[result.state].title, CLOSED[result.state].message);
      }
      await startSession(ctx, result.session, result.maxAge);
      deps.log.info({ address: ctx.ip, device: result.session.label }, 'device enrolled');
      ctx.set('Cache-Control', CACHE_POLICY.page);
      ctx.status = 303;
      ctx.redirect('/');
    },
    async showDevice(ctx: Context): Promise<void> {
      const visitor = visitorOf(ctx);
      if (visitor === undefined) return ctx.redirect('/');
      const session = await deps.access.liveSession(visitor.sid);
      devicePage(ctx, 200, { name: session?.deviceName ?? null });
    },
    async nameDevice(ctx: Context): Promise<void> {
      const visitor = visitorOf(ctx);
      if (visitor === undefined || !isSameOriginRequest(ctx, deps.publicUrl)) return page(ctx, 403, 'enrol.notAllowedTitle', 'enrol.notAllowedText');
      const name = String((ctx.request.body as { name?: unknown } | undefined)?.name ?? '');
      try {
        const saved = await deps.access.nameDevice(visitor.sid, name);
        deps.log.info({ address: ctx.ip, device: saved }, 'device named');
        devicePage(ctx, 200, { name: saved, saved: saved !== null });
      } catch (error) {
        if (!(error instanceof DeviceError)) throw error;
        // The admin's CLI reads the error's own words; a visitor reads them in their language.
        devicePage(ctx, 400, { name: name.slice(0, 64), error: displayOf(ctx).t.t('device.badName') });
      }
    },
  };
}
