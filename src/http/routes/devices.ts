import type { Context } from 'koa';
import { DeviceError, type Access, type EnrolmentCheck } from '../../access/index.js';
import type { Logger } from '../../log.js';
import { CACHE_POLICY, ENROL_PATH_PREFIX } from '../../media-contract.js';
import type { Ui } from '../../ui/index.js';
import { isSameOriginRequest } from '../same-origin.js';
import { answerCardPage } from './card-page.js';
import { startSession, visitorOf } from '../session.js';

export interface DeviceRouteDeps {
  readonly publicUrl: string | undefined;
  readonly log: Logger;
  readonly ui: Ui;
  readonly access: Access;
}

const CLOSED: Readonly<Record<Exclude<EnrolmentCheck['state'], 'open'>, { status: number; title: string; message: string }>> = {
  unknown: { status: 404, title: 'This card is not valid', message: 'Check that the whole link was copied, or ask the family’s admin for a new card.' },
  used: { status: 410, title: 'This card has been used', message: 'It opens the gallery on one device only, and already has. Ask the family’s admin for a new card.' },
  expired: { status: 410, title: 'This card has expired', message: 'Ask the family’s admin for a new card.' },
};

/**
 * `/enrol/<code>`: a device's enrolment card. GET shows a button and changes nothing (a chat's
 * link preview must not use the card up); POST, from this site only, uses it once and starts
 * the device's long-lived session. `/device`: a logged-in visitor names the device they are on.
 */
export function deviceRoutes(deps: DeviceRouteDeps) {
  const page = (ctx: Context, status: number, title: string, message: string, action?: string): void =>
    answerCardPage(ctx, deps.ui, { status, title, message, action, button: 'Open the gallery on this device' });
  const codeOf = (ctx: Context): string => ctx.path.slice(ENROL_PATH_PREFIX.length);

  function devicePage(ctx: Context, status: number, options: { name: string | null; error?: string; saved?: boolean }): void {
    ctx.status = status;
    ctx.set('Cache-Control', CACHE_POLICY.page);
    ctx.type = 'html';
    ctx.body = deps.ui.renderDevicePage(options);
  }

  return {
    async showCard(ctx: Context): Promise<void> {
      const checked = await deps.access.checkEnrolment(codeOf(ctx));
      if (checked.state !== 'open') return page(ctx, CLOSED[checked.state].status, CLOSED[checked.state].title, CLOSED[checked.state].message);
      page(ctx, 200, `Photos for ${checked.key.label}`, `This card opens the family’s photos on this device, “${checked.key.label}”, once. Press the button on the device that should keep them.`, ctx.path);
    },
    async useCard(ctx: Context): Promise<void> {
      if (!isSameOriginRequest(ctx, deps.publicUrl)) return page(ctx, 403, CLOSED.unknown.title, 'Open it from this site.');
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
      if (visitor === undefined || !isSameOriginRequest(ctx, deps.publicUrl)) return page(ctx, 403, 'Not allowed', 'Log in on this site first.');
      const name = String((ctx.request.body as { name?: unknown } | undefined)?.name ?? '');
      try {
        const saved = await deps.access.nameDevice(visitor.sid, name);
        deps.log.info({ address: ctx.ip, device: saved }, 'device named');
        devicePage(ctx, 200, { name: saved, saved: saved !== null });
      } catch (error) {
        if (!(error instanceof DeviceError)) throw error;
        devicePage(ctx, 400, { name: name.slice(0, 64), error: error.message });
      }
    },
  };
}
