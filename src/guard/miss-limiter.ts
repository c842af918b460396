import { addressKey } from './addresses.js';
import type { GuardConfig } from './config.js';
import type { Refusal } from './facts.js';

/*
 * Derivative misses: a request for a derivative not made yet costs a decode of the original,
 * a second or more of CPU for a big photo, where a cached one costs a file read. One visitor
 * (an unlimited share link, a script) asking for thousands of uncached derivatives would queue
 * minutes of CPU ahead of everyone else's first views. Three things stop that:
 * - the derivative queue is fair between visitors (a session's jobs take turns with everyone
 *   else's: derivatives/queue.ts), so the family's visible page is made between the flood's;
 * - each session, and each address, may have only so many derivatives waiting or being made for
 *   it at once (24 and 64 by default: a phone's grid over HTTP/2 asks for a screenful, a few
 *   dozen, at a time); beyond that the answer is 503 with Retry-After, which the gallery retries;
 *   asking again for one already waited for by the same visitor costs nothing more;
 * - a new miss costs `cost` requests of the media budget (2 by default) instead of one.
 */

type MissOptions = GuardConfig['rates']['misses'];

export interface MissTicket {
  /** True for the first request of this visitor for this derivative: the one that costs a decode. */
  readonly first: boolean;
  /** Call once the derivative is made (or failed): the slot is free again. */
  release(): void;
}

export interface MissLimiter {
  /** A slot for one miss of `target` (the derivative's cache name), or the refusal when there are too many in flight. */
  enter(sessionKey: string | undefined, address: string, target: string): MissTicket | Refusal;
  readonly cost: number;
}

const BUSY_RETRY_SECONDS = 1;

/** Derivatives being made per visitor: target → how many requests wait for it. */
type InFlight = Map<string, Map<string, number>>;

function join(inFlight: InFlight, key: string, target: string): void {
  const targets = inFlight.get(key) ?? new Map<string, number>();
  targets.set(target, (targets.get(target) ?? 0) + 1);
  inFlight.set(key, targets);
}

function leave(inFlight: InFlight, key: string, target: string): void {
  const targets = inFlight.get(key);
  const left = (targets?.get(target) ?? 1) - 1;
  if (left > 0) targets!.set(target, left);
  else targets?.delete(target);
  if (targets?.size === 0) inFlight.delete(key);
}

export function createMissLimiter(options: MissOptions, enabled: boolean): MissLimiter {
  const inFlight: InFlight = new Map();
  const limits = (key: string) => (key.startsWith('session ') ? options.perSession : options.perAddress);
  const isFull = (key: string, target: string) => {
    const targets = inFlight.get(key);
    return targets !== undefined && !targets.has(target) && targets.size >= limits(key);
  };
  return {
    cost: enabled ? options.cost : 1,
    enter(sessionKey, address, target) {
      const keys = [`address ${addressKey(address)}`, ...(sessionKey === undefined ? [] : [`session ${sessionKey}`])];
      if (enabled && keys.some((key) => isFull(key, target))) {
        return { allow: false, policy: 'rates', reason: 'too many derivatives being made for this visitor at once', status: 503, retryAfterSeconds: BUSY_RETRY_SECONDS };
      }
      const first = !keys.every((key) => inFlight.get(key)?.has(target) === true);
      for (const key of keys) join(inFlight, key, target);
      let released = false;
      return {
        first,
        release() {
          if (released) return;
          released = true;
          for (const key of keys) leave(inFlight, key, target);
        },
      };
    },
  };
}
