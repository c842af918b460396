import type { Context } from 'koa';
import type { Keyring, LoginOutcome } from '../../auth/index.js';
import type { Config } from '../../config.js';
import { keyViewName, type SessionLinks } from '../../links/index.js';
import type { Logger } from '../../log.js';
import { isSameOriginRequest, safeNextPath } from '../same-origin.js';
import { startSession, visitorOf } from '../session.js';
import type { Ui } from '../../ui/index.js';

export interface AuthDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly keyring: Keyring;
  readonly sessionLinks: SessionLinks;
  readonly ui: Ui;
}

interface LoginForm {
  readonly password: string;
  readonly next: string;
  readonly remember: boolean;
}

function readLoginForm(body: unknown): LoginForm {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const remember = fields['remember'];
  return {
    password: typeof fields['password'] === 'string' ? fields['password'] : '',
    next: safeNextPath(fields['next']),
    remember: remember === true || remember === 'on' || remember === '1' || remember === 'true',
  };
}

function wantsJson(ctx: Context): boolean {
  return ctx.is('application/json') === 'application/json' || ctx.accepts('html', 'json') === 'json';
}

function refuse(ui: Ui, ctx: Context, status: number, message: string, next: string): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  if (wantsJson(ctx)) ctx.body = { error: message };
  else {
    ctx.type = 'html';
    ctx.body = ui.renderLoginPage({ message, next });
  }
}

const MESSAGES: Record<Exclude<LoginOutcome['outcome'], 'accepted'>, string> = {
  rejected: 'That password is not right. Check it and try again.',
  expired: 'That password has expired. Ask whoever shared it for a new one.',
};

export function authRoutes(deps: AuthDeps) {
  const { config, log, keyring, sessionLinks } = deps;

  async function login(ctx: Context): Promise<void> {
    const form = readLoginForm(ctx.request.body);
    if (!isSameOriginRequest(ctx, config.publicUrl)) {
      refuse(deps.ui, ctx, 403, 'This form must be sent from the gallery itself.', form.next);
      return;
    }
    const result = form.password === '' ? ({ outcome: 'rejected' } as const) : await keyring.authenticate(form.password);
    if (result.outcome !== 'accepted') {
      log.warn({ address: ctx.ip, outcome: result.outcome }, 'login refused');
      refuse(deps.ui, ctx, 401, MESSAGES[result.outcome], form.next);
      return;
    }
    const { key } = result;
    const maxAge = form.remember ? config.rememberTtlMs : config.sessionTtlMs;
    const record = await sessionLinks.open({
      keyId: key.id,
      shareId: null,
      label: key.label,
      albums: key.albums,
      canDownloadOriginals: key.canDownloadOriginals,
      view: keyViewName(key.id),
      maxAge,
      expiresCap: key.expiresAt,
    });
    await startSession(ctx, record.sid, record.token, maxAge);
    log.info({ address: ctx.ip, label: key.label }, 'login');
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(form.next);
  }

  async function logout(ctx: Context): Promise<void> {
    if (!isSameOriginRequest(ctx, config.publicUrl)) {
      ctx.status = 403;
      ctx.body = 'This form must be sent from the gallery itself.\n';
      return;
    }
    const visitor = visitorOf(ctx);
    // The link goes before the answer does: every URL of this session is dead on arrival of the 303.
    if (visitor !== undefined) await sessionLinks.end(visitor.sid);
    ctx.session = null;
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect('/');
  }

  function me(ctx: Context): void {
    const visitor = visitorOf(ctx);
    ctx.set('Cache-Control', 'no-store');
    if (visitor === undefined) {
      ctx.status = 401;
      ctx.body = { error: 'Not logged in' };
      return;
    }
    ctx.body = {
      token: visitor.token,
      label: visitor.label,
      expiresAt: new Date(visitor.expiresAt).toISOString(),
      canDownloadOriginals: visitor.canDownloadOriginals,
    };
  }

  return { login, logout, me };
}
