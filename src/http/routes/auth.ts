import { setTimeout as delay } from 'node:timers/promises';
import type { Context } from 'koa';
import type { Access, LoginResult } from '../../access/index.js';
import { LoginBusyError } from '../../auth/index.js';
import type { LoginThrottle, Refusal } from '../../guard/index.js';
import type { Logger } from '../../log.js';
import { CACHE_POLICY } from '../../media-contract.js';
import type { MessageKey, Translator, Ui } from '../../ui/index.js';
import { displayOf } from '../display.js';
import { isSameOriginRequest, safeNextPath } from '../same-origin.js';
import { forgetSession, startSession, visitorOf } from '../session.js';

export interface AuthDeps {
  readonly publicUrl: string | undefined;
  readonly log: Logger;
  readonly access: Access;
  readonly ui: Ui;
  readonly loginThrottle: LoginThrottle;
  /** Logs and counts a refusal (the guard's one log line per refused request). */
  readonly refuse: (ctx: Context, refusal: Refusal) => void;
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

/** The login page again with a message, in the visitor's language (or the message as JSON). */
function answerWithLoginPage(ui: Ui, ctx: Context, status: number, say: (t: Translator) => string, next: string): void {
  const display = displayOf(ctx);
  const message = say(display.t);
  ctx.status = status;
  ctx.set('Cache-Control', CACHE_POLICY.page);
  if (wantsJson(ctx)) ctx.body = { error: message };
  else {
    ctx.type = 'html';
    ctx.body = ui.renderLoginPage({ display, message, next });
  }
}

function waitText(seconds: number, t: Translator): string {
  if (seconds < 90) return t.t('wait.seconds', { count: seconds });
  return t.t('wait.minutes', { count: Math.ceil(seconds / 60) });
}

/**
 * A login refused without a check (throttled: 429; too busy: 503) is answered after a pause of
 * about a second. A person told to wait loses nothing; a guesser that waits for each answer on a
 * connection, as brute-force tools do, gets one refusal a second per connection instead of
 * thousands, which would otherwise take the event loop from the photos of everyone logged in.
 * Each pause is drawn at random, so the refusals of many connections do not all come due in
 * the same instant (a burst of hundreds of answers would stall the photos as the flood did).
 * A pause never takes more than half of what is left of the wait it announces, so the wait
 * still means what it says when the answer arrives.
 */
export const REFUSED_LOGIN_PAUSE_MS = { min: 750, max: 1250 } as const;

function refusalPause(waitLeftMs: number): Promise<void> {
  const drawn = REFUSED_LOGIN_PAUSE_MS.min + Math.random() * (REFUSED_LOGIN_PAUSE_MS.max - REFUSED_LOGIN_PAUSE_MS.min);
  return delay(Math.min(drawn, waitLeftMs / 2));
}

const MESSAGES: Record<Exclude<LoginResult['outcome'], 'accepted'>, MessageKey> = {
  rejected: 'login.rejected',
  expired: 'login.expired',
};

export function authRoutes(deps: AuthDeps) {
  const { log, access } = deps;

  async function login(ctx: Context): Promise<void> {
    const form = readLoginForm(ctx.request.body);
    if (!isSameOriginRequest(ctx, deps.publicUrl)) {
      answerWithLoginPage(deps.ui, ctx, 403, (t) => t.t('login.crossSite'), form.next);
      return;
    }
    // Checked before the password: a throttled address waits even with the right one.
    const gate = await deps.loginThrottle.check(ctx.ip);
    if (!gate.allowed) {
      await refusalPause(gate.retryAfterMs);
      deps.refuse(ctx, gate.refusal);
      answerWithLoginPage(deps.ui, ctx, 429, (t) => t.t('login.tooMany', { wait: waitText(gate.retryAfterSeconds, t) }), form.next);
      ctx.set('Retry-After', String(gate.retryAfterSeconds));
      return;
    }
    let result: LoginResult;
    try {
      result = await access.login(form.password, { remember: form.remember });
    } catch (error) {
      if (!(error instanceof LoginBusyError)) throw error;
      // Not a guess that was checked: it does not count against the address.
      await deps.loginThrottle.cancel(ctx.ip);
      await refusalPause(error.retryAfterSeconds * 1000);
      answerWithLoginPage(deps.ui, ctx, 503, (t) => t.t('login.busy'), form.next);
      ctx.set('Retry-After', String(error.retryAfterSeconds));
      return;
    }
    if (result.outcome !== 'accepted') {
      await deps.loginThrottle.recordFailure(ctx.ip);
      log.warn({ address: ctx.ip, outcome: result.outcome }, 'login refused');
      answerWithLoginPage(deps.ui, ctx, 401, (t) => t.t(MESSAGES[result.outcome]), form.next);
      return;
    }
    await deps.loginThrottle.recordSuccess(ctx.ip);
    await startSession(ctx, result.session, result.maxAge);
    log.info({ address: ctx.ip, label: result.session.label }, 'login');
    ctx.set('Cache-Control', CACHE_POLICY.page);
    ctx.status = 303;
    ctx.redirect(form.next);
  }

  async function logout(ctx: Context): Promise<void> {
    if (!isSameOriginRequest(ctx, deps.publicUrl)) {
      ctx.status = 403;
      ctx.body = `${displayOf(ctx).t.t('login.crossSite')}\n`;
      return;
    }
    const visitor = visitorOf(ctx);
    // The link goes before the answer does: every URL of this session is dead on arrival of the 303.
    if (visitor !== undefined) await access.endSession(visitor.sid);
    forgetSession(ctx, visitor);
    ctx.set('Cache-Control', CACHE_POLICY.page);
    ctx.status = 303;
    ctx.redirect('/');
  }

  function me(ctx: Context): void {
    const visitor = visitorOf(ctx);
    ctx.set('Cache-Control', CACHE_POLICY.page);
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

  /** The login form lives on every page a visitor may not see yet; a bookmarked /login goes to it. */
  function showLogin(ctx: Context): void {
    ctx.set('Cache-Control', CACHE_POLICY.page);
    ctx.status = 303;
    ctx.redirect(safeNextPath(ctx.query['next']));
  }

  return { login, logout, me, showLogin };
}
