import { shortToken } from '../media-contract.js';
import type { Receipt } from '../store/index.js';

/*
 * A receipt in words, as the admin reads it when listing or revoking: "this link saw 212 photos
 * of Summer 2024 and downloaded 3 originals, from 2 addresses, last at 14:02".
 */

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Local date and time to the minute, as a server's admin reads it. */
export function when(at: number): string {
  const date = new Date(at);
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** Every photo a receipt names, and every original among them. */
export function receiptTotals(receipts: readonly Receipt[]): { photos: number; originals: number; addresses: number; lastSeen: number | undefined } {
  const addresses = new Set(receipts.flatMap((receipt) => receipt.addresses.map((entry) => entry.address)));
  return {
    photos: receipts.reduce((sum, receipt) => sum + receipt.albums.reduce((albums, album) => albums + album.photos, 0) + receipt.photosBeyond, 0),
    originals: receipts.reduce((sum, receipt) => sum + receipt.albums.reduce((albums, album) => albums + album.originals, 0), 0),
    addresses: addresses.size + receipts.reduce((sum, receipt) => sum + receipt.addressesBeyond, 0),
    lastSeen: receipts.length === 0 ? undefined : Math.max(...receipts.map((receipt) => receipt.lastSeen)),
  };
}

/** One sentence: what the session saw, downloaded, from where, and when last. */
export function receiptSentence(receipt: Receipt): string {
  const albums = receipt.albums.map((album) => `${plural(album.photos, 'photo')} of ${album.path === '' ? 'the top level' : album.path}`);
  if (receipt.photosBeyond > 0) albums.push(`${plural(receipt.photosBeyond, 'more photo')}`);
  const { originals, addresses } = receiptTotals([receipt]);
  const saw = albums.length === 0 ? 'saw no photos' : `saw ${albums.join(', ')}`;
  return `${saw} and downloaded ${plural(originals, 'original')}, from ${plural(addresses, 'address', 'addresses')}, last at ${when(receipt.lastSeen)}`;
}

/** The receipt in full, for `keepsake sessions show`. */
export function receiptLines(receipt: Receipt, live: boolean): string[] {
  const who = `${receipt.label} (token ${shortToken(receipt.token)}, ${live ? 'live' : 'ended'})`;
  const lines = [`${who}: ${receiptSentence(receipt)}.`, `  first seen ${when(receipt.firstSeen)}, last seen ${when(receipt.lastSeen)}, ${plural(receipt.requests, 'media request')}`];
  for (const album of receipt.albums) lines.push(`  ${album.path === '' ? '(top level)' : album.path}: ${plural(album.photos, 'photo')}${album.originals > 0 ? `, ${plural(album.originals, 'original')}` : ''}`);
  for (const entry of receipt.addresses) lines.push(`  from ${entry.address}, ${when(entry.firstSeen)} to ${when(entry.lastSeen)}`);
  if (receipt.addressesBeyond > 0) lines.push(`  and ${plural(receipt.addressesBeyond, 'more address', 'more addresses')}`);
  return lines;
}
