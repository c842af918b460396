import { setTimeout as sleep } from 'node:timers/promises';
import { Browser, type Tally } from './browser.js';

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
   * Sessions that expired while their visitor was still busy: with a 3 s lifetime, renewed only
   * once half of it has passed, one slow answer (a derivative being made) is enough. Their media
   * answers are the uniform 404, which is right; the family logs in again.
   */
  expiredInUse: number;
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
      const login = await browser.send('POST', '/login', [303], { password: key.password });
      if (login?.status !== 303) {
        await think(500);
        continue;
      }
      options.events.logins += 1;
      const me = await browser.send('GET', '/api/me', [200]);
      const token = me?.status === 200 ? (JSON.parse(me.body.toString()) as { token: string }).token : undefined;
      let sample: string | undefined;
      try {
        // A session lasts a few albums; activity renews it.
        for (let albums = 1 + Math.floor(random() * 3); albums > 0 && Date.now() < deadline; albums -= 1) {
          sample = (await browseAlbum(browser, key, options)) ?? sample;
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

/** One album: the index, the album page, its thumbnails, a few photos full screen. Returns a media URL seen. */
async function browseAlbum(browser: Browser, key: Key, options: FamilyOptions): Promise<string | undefined> {
  const { random } = options;
  await browser.send('GET', '/', [200]);
  const index = await browser.send('GET', '/api/albums', [200]);
  if (index?.status !== 200) return undefined;
  const albums = (JSON.parse(index.body.toString()) as { albums: { path: string }[] }).albums;
  let albumPath = pick(albums, random)?.path;
  if (albumPath === undefined) return undefined;
  let listing = await albumListing(browser, albumPath);
  // Down into a sub-album now and then.
  const child = pick(listing?.albums ?? [], random);
  if (child !== undefined && random() < 0.5) {
    albumPath = child.path;
    listing = await albumListing(browser, albumPath);
  }
  await browser.send('GET', `/albums/${encodePath(albumPath)}`, [200]);
  const items = listing?.items ?? [];
  // The grid: thumbnails four at a time, like a browser's parallel image loads.
  const thumbs = items.slice(0, 16).map((item) => item.urls['thumb']).filter((url): url is string => url !== undefined);
  for (let at = 0; at < thumbs.length; at += 4) await media(browser, thumbs.slice(at, at + 4));
  // Full screen: a few photos, the next one preloaded alongside.
  for (let viewed = 0; viewed < 3 && items.length > 0; viewed += 1) {
    const at = Math.floor(random() * items.length);
    const shown = [items[at], items[(at + 1) % items.length]].map((item) => item?.urls['medium']).filter((url): url is string => url !== undefined);
    await media(browser, shown);
    if (key.canDownloadOriginals && random() < 0.15) {
      const original = items[at]?.urls['original'];
      if (original !== undefined) await media(browser, [original]);
    }
    await sleep(50 + random() * 250);
  }
  return thumbs[0];
}

/**
 * Media of a live session must come back 200. A 404 is right only when the session has in fact
 * expired meanwhile, which /api/me tells; otherwise it is counted as unexpected.
 */
async function media(browser: Browser, urls: readonly string[]): Promise<void> {
  const answers = await Promise.all(urls.map((url) => browser.send('GET', url, [200, 404])));
  const missing = answers.filter((answer) => answer?.status === 404).length;
  if (missing === 0) return;
  const me = await browser.send('GET', '/api/me', [200, 401]);
  if (me?.status === 401) throw new SessionExpired();
  browser.reportUnexpected(missing, `${missing} media 404 for a live session: ${urls.join(' ')}`);
}

async function albumListing(browser: Browser, albumPath: string): Promise<{ albums: { path: string }[]; items: Item[] } | undefined> {
  const answer = await browser.send('GET', `/api/albums/${encodePath(albumPath)}`, [200]);
  return answer?.status === 200 ? (JSON.parse(answer.body.toString()) as { albums: { path: string }[]; items: Item[] }) : undefined;
}
