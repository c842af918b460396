import { setTimeout as sleep } from 'node:timers/promises';
import { Browser, type Answer, type Tally } from './browser.js';

/**
 * One simulated family member: logs in, looks around like a person with a fast thumb, views
 * photos full screen, then logs out, wanders off long enough for the session to expire, or
 * keeps going. Every step says which answers it may get; anything else is tallied.
 */

export interface Key {
  readonly password: string;
  readonly canDownloadOriginals: boolean;
}

export interface FamilyOptions {
  readonly base: URL;
  readonly keys: readonly Key[];
  readonly sessionTtlMs: number;
  readonly deadline: number;
  readonly tally: Tally;
  /** Counts what happened to sessions, for the report. */
  readonly events: SessionEvents;
  readonly random: () => number;
}

export interface SessionEvents {
  logins: number;
  logouts: number;
  expiries: number;
  /**
   * Sessions that expired while their visitor was still busy: keepsake renews a session when a
   * request arrives in the second half of its life, so a session is sure to live half its
   * lifetime (1.5 s here) after any request; one slower answer (a derivative being made) is
   * enough to outlast that. Their answers are 401 or the uniform 404, which is right; the
   * family logs in again.
   */
  expiredInUse: number;
}

/**
 * When the session is sure to be alive. A request that arrives is answered while the session
 * lives, and renews it when half its lifetime is gone, so after any request that found it alive
 * it lives at least half its lifetime more. An end before that is keepsake's fault.
 */
class SessionClock {
  private aliveAt: number;

  constructor(
    private readonly ttlMs: number,
    loggedInAt: number,
  ) {
    this.aliveAt = loggedInAt;
  }

  /** An answer that needed the session alive. */
  alive(answer: Answer): void {
    this.aliveAt = Math.max(this.aliveAt, answer.sentAt);
  }

  /** Whether the session may have ended by the time this request went out (a little slack for timers). */
  mayBeGone(answer: Answer): boolean {
    return answer.sentAt >= this.aliveAt + this.ttlMs / 2 - 50;
  }

  describe(answer: Answer): string {
    return `${answer.sentAt - this.aliveAt} ms after the last request that found the session alive (it lives ${this.ttlMs / 2} ms after one)`;
  }
}

export function newSessionEvents(): SessionEvents {
  return { logins: 0, logouts: 0, expiries: 0, expiredInUse: 0 };
}

/** Thrown inside a visit when the session turned out to have expired under it. */
class SessionExpired extends Error {}

interface Item {
  readonly name: string;
  readonly urls: Record<string, string>;
}

const pick = <T>(items: readonly T[], random: () => number): T | undefined => items[Math.floor(random() * items.length)];
const encodePath = (albumPath: string) => albumPath.split('/').map(encodeURIComponent).join('/');

export async function runFamily(options: FamilyOptions): Promise<void> {
  const { base, tally, random, deadline } = options;
  const browser = new Browser(base, tally);
  const think = (ms: number) => sleep(Math.min(ms, Math.max(0, deadline - Date.now())));
  try {
    while (Date.now() < deadline) {
      const key = pick(options.keys, random)!;
      const login = await browser.send('POST', '/login', [303, 503], { password: key.password });
      if (login?.status === 503) {
        // "Many people are logging in at once. Wait a moment and try again.": a person does.
        await think(Number(login.headers['retry-after'] ?? 1) * 1000);
        continue;
      }
      if (login?.status !== 303) {
        await think(500);
        continue;
      }
      options.events.logins += 1;
      const clock = new SessionClock(options.sessionTtlMs, login.sentAt);
      const me = await browser.send('GET', '/api/me', [200]);
      const token = me?.status === 200 ? (JSON.parse(me.body.toString()) as { token: string }).token : undefined;
      let sample: string | undefined;
      try {
        // A session lasts a few albums; activity renews it.
        for (let albums = 1 + Math.floor(random() * 3); albums > 0 && Date.now() < deadline; albums -= 1) {
          sample = (await browseAlbum(browser, key, clock, options)) ?? sample;
        }
      } catch (error) {
        if (!(error instanceof SessionExpired)) throw error;
        options.events.expiredInUse += 1;
        continue;
      }
      const ending = random();
      if (ending < 0.45) {
        await browser.send('POST', '/logout', [303], {});
        options.events.logouts += 1;
      } else if (ending < 0.8) {
        // Walks away: the session expires and the sweeper removes its link.
        const away = options.sessionTtlMs + 1_200 + random() * 1_000;
        // Back only if the whole time away fits before the end (timers may fire a millisecond
        // before Date.now() says they are due, so "now >= deadline" afterwards is not enough).
        if (Date.now() + away >= deadline) {
          await think(away);
          break;
        }
        await sleep(away);
        await browser.send('GET', '/api/me', [401]);
        options.events.expiries += 1;
      } else continue; // logs in again at once, as on a second device
      // Every URL of the ended session is dead.
      if (sample !== undefined && token !== undefined && Date.now() < deadline) await browser.send('GET', sample, [404]);
      await think(200 + random() * 800);
    }
  } finally {
    browser.close();
  }
}

/**
 * An answer that needs the session: alive (`okStatus`) renews the clock; `goneStatus` is the
 * session's end, right only once the clock says it may be over (then the visit ends), and
 * tallied as unexpected before that.
 */
function judge(browser: Browser, clock: SessionClock, answer: Answer | undefined, okStatus: number, goneStatus: number, what: string): Answer | undefined {
  if (answer === undefined) return undefined;
  if (answer.status === okStatus) {
    clock.alive(answer);
    return answer;
  }
  if (answer.status !== goneStatus) return undefined;
  if (!clock.mayBeGone(answer)) browser.reportUnexpected(1, `session ended early: ${goneStatus} for ${what}, ${clock.describe(answer)}`);
  throw new SessionExpired();
}

/** One album: the index, the album page, its thumbnails, a few photos full screen. Returns a media URL seen. */
async function browseAlbum(browser: Browser, key: Key, clock: SessionClock, options: FamilyOptions): Promise<string | undefined> {
  const { random } = options;
  // The index page is 200 whether it shows the albums or the login form; /api/albums tells.
  await browser.send('GET', '/', [200]);
  const index = judge(browser, clock, await browser.send('GET', '/api/albums', [200, 401]), 200, 401, 'GET /api/albums');
  if (index === undefined) return undefined;
  const albums = (JSON.parse(index.body.toString()) as { albums: { path: string }[] }).albums;
  let albumPath = pick(albums, random)?.path;
  if (albumPath === undefined) return undefined;
  let listing = await albumListing(browser, clock, albumPath);
  // Down into a sub-album now and then.
  const child = pick(listing?.albums ?? [], random);
  if (child !== undefined && random() < 0.5) {
    albumPath = child.path;
    listing = await albumListing(browser, clock, albumPath);
  }
  // Logged out, an album page redirects to the login page.
  judge(browser, clock, await browser.send('GET', `/albums/${encodePath(albumPath)}`, [200, 302]), 200, 302, 'an album page');
  const items = listing?.items ?? [];
  // The grid: thumbnails four at a time, like a browser's parallel image loads.
  const thumbs = items.slice(0, 16).map((item) => item.urls['thumb']).filter((url): url is string => url !== undefined);
  for (let at = 0; at < thumbs.length; at += 4) await media(browser, clock, thumbs.slice(at, at + 4));
  // Full screen: a few photos, the next one preloaded alongside.
  for (let viewed = 0; viewed < 3 && items.length > 0; viewed += 1) {
    const at = Math.floor(random() * items.length);
    const shown = [items[at], items[(at + 1) % items.length]].map((item) => item?.urls['medium']).filter((url): url is string => url !== undefined);
    await media(browser, clock, shown);
    if (key.canDownloadOriginals && random() < 0.15) {
      const original = items[at]?.urls['original'];
      if (original !== undefined) await media(browser, clock, [original]);
    }
    await sleep(50 + random() * 250);
  }
  return thumbs[0];
}

/**
 * Media of a live session must come back 200. A 404 is right only when the session has in fact
 * ended (/api/me says 401) and the clock says it may have; otherwise it is counted as unexpected.
 */
async function media(browser: Browser, clock: SessionClock, urls: readonly string[]): Promise<void> {
  const answers = await Promise.all(urls.map((url) => browser.send('GET', url, [200, 404])));
  for (const answer of answers) if (answer?.status === 200) clock.alive(answer);
  const missing = answers.filter((answer): answer is Answer => answer?.status === 404);
  if (missing.length === 0) return;
  const me = await browser.send('GET', '/api/me', [200, 401]);
  if (me?.status !== 401) {
    browser.reportUnexpected(missing.length, `${missing.length} media 404 for a live session: ${urls.join(' ')}`);
    return;
  }
  if (!clock.mayBeGone(missing[0]!)) browser.reportUnexpected(1, `session ended early: media 404, ${clock.describe(missing[0]!)}`);
  throw new SessionExpired();
}

async function albumListing(browser: Browser, clock: SessionClock, albumPath: string): Promise<{ albums: { path: string }[]; items: Item[] } | undefined> {
  const answer = judge(browser, clock, await browser.send('GET', `/api/albums/${encodePath(albumPath)}`, [200, 401]), 200, 401, 'an album listing');
  return answer === undefined ? undefined : (JSON.parse(answer.body.toString()) as { albums: { path: string }[]; items: Item[] });
}
