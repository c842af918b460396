/*
 * What a batch of hits adds to a session's receipt, decided once for both engines: which photos and
 * addresses are named (up to the caps) and how many go beyond. A browser asks for the same photo
 * many times a second, so the engines write one row per photo, not one statement per hit, and
 * the recorder hands over answers alike as one hit with its `repeats`.
 */

/** At most this many photos and addresses are named per receipt; past them, only counted. */
export const RECEIPT_PHOTOS = 20_000;
export const RECEIPT_ADDRESSES = 16;

/** One media answer a session was given, or several alike (the same file, kind and address). */
export interface ReceiptHit {
  readonly albumPath: string;
  readonly name: string;
  /** The file as stored (an original or a video as recorded), not a derivative. */
  readonly original: boolean;
  readonly address: string;
  /** When it was sent (the last of them, for several). */
  readonly at: number;
  /** How many answers this stands for (default 1), the first of them sent at `firstAt` (default `at`). */
  readonly repeats?: number;
  readonly firstAt?: number;
}

export type Photo = { albumPath: string; name: string; original: boolean };
export type Span = { address: string; first: number; last: number };

export const photoId = (photo: { albumPath: string; name: string }): string => JSON.stringify([photo.albumPath, photo.name]);

const repeatsOf = (hit: ReceiptHit): number => hit.repeats ?? 1;
const firstAtOf = (hit: ReceiptHit): number => hit.firstAt ?? hit.at;

/** When a batch's answers were sent, and how many there were. */
export function spanOfHits(hits: readonly ReceiptHit[]): { first: number; last: number; requests: number } {
  let first = Infinity;
  let last = -Infinity;
  let requests = 0;
  for (const hit of hits) {
    first = Math.min(first, firstAtOf(hit));
    last = Math.max(last, hit.at);
    requests += repeatsOf(hit);
  }
  return { first, last, requests };
}

/**
 * Hit by hit: a photo already named (in the table or earlier in this batch) is named again (an
 * original stays an original); a new one is named while there is room; past the cap, every hit
 * of an unnamed photo is counted, repeats included. One row per photo comes out.
 */
export function admitPhotos(hits: readonly ReceiptHit[], known: ReadonlySet<string>, count: number): { put: Photo[]; beyond: number } {
  const put = new Map<string, Photo>();
  let beyond = 0;
  for (const hit of hits) {
    const id = photoId(hit);
    const earlier = put.get(id);
    const named = earlier !== undefined || known.has(id);
    if (!named && count >= RECEIPT_PHOTOS) {
      beyond += repeatsOf(hit);
      continue;
    }
    put.set(id, { albumPath: hit.albumPath, name: hit.name, original: hit.original || earlier?.original === true });
    if (!named) count += 1;
  }
  return { put: [...put.values()], beyond };
}

/** Addresses are first merged into one span each, so past the cap each new address counts once. */
export function admitAddresses(hits: readonly ReceiptHit[], known: ReadonlySet<string>, count: number): { put: Span[]; beyond: number } {
  const spans = new Map<string, Span>();
  for (const hit of hits) {
    const span = spans.get(hit.address);
    spans.set(hit.address, { address: hit.address, first: Math.min(span?.first ?? Infinity, firstAtOf(hit)), last: Math.max(span?.last ?? -Infinity, hit.at) });
  }
  const put: Span[] = [];
  let beyond = 0;
  for (const span of spans.values()) {
    const named = known.has(span.address);
    if (!named && count >= RECEIPT_ADDRESSES) {
      beyond += 1;
      continue;
    }
    put.push(span);
    if (!named) count += 1;
  }
  return { put, beyond };
}
