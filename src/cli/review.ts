import { UserError } from '../errors.js';
import { when } from '../receipts/index.js';
import { parseOptions } from './arguments.js';
import { print, printTable, UsageError, withServices } from './context.js';

/*
 * The publish gate's commands (KEEPSAKE_PUBLISH=review): `keepsake review` lists what waits,
 * `keepsake publish <album>` (or --all) releases it to every key that grants it. The views on
 * disk follow at once, so a static server serves it as soon as keepsake does.
 */

const PUBLISH_USAGE = `Usage:
  keepsake publish <album>   release an album waiting for review (and everything below it)
  keepsake publish --all     release everything waiting`;

const REVIEW_USAGE = `Usage:
  keepsake review            the albums waiting for review (release one with keepsake publish <album>)
  keepsake review --serve    a one-time link to preview them in a browser on this machine (for an hour)`;

async function servePreview(): Promise<number> {
  return withServices(async (services) => {
    const { code, expiresAt } = await services.access.createPreviewLink();
    print('Open this on this machine, with keepsake running, within 15 minutes (it works once):');
    print(`http://127.0.0.1:${services.settings.port}/review/${code}`);
    print(`The preview shows every album, those waiting for review too, for an hour; it works only from 127.0.0.1. Until ${when(expiresAt)}.`);
    return 0;
  });
}

export async function reviewCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseOptions({ args: [...args], allowPositionals: true, options: { serve: { type: 'boolean', default: false } } });
  if (positionals.length > 0) throw new UsageError(REVIEW_USAGE);
  if (values.serve) return servePreview();
  return withServices(async (services) => {
    const pending = services.library.publishing.pending();
    const gate = services.settings.publish === 'review' ? '' : ' (the gate is off: set KEEPSAKE_PUBLISH=review to hold new albums back)';
    if (pending.length === 0) {
      print(`No album is waiting for review${gate}.`);
      return 0;
    }
    printTable(
      ['ALBUM', 'ALBUMS', 'PHOTOS', 'TAKEN'],
      pending.map((album) => [
        album.path,
        String(album.albums),
        String(album.photos),
        album.firstTakenAt === undefined || album.lastTakenAt === undefined ? '-' : `${when(album.firstTakenAt).slice(0, 10)} to ${when(album.lastTakenAt).slice(0, 10)}`,
      ]),
    );
    print(`\n${pending.length} waiting; no key sees them until: keepsake publish <album> (or --all)${gate}`);
    return 0;
  });
}

export async function publishCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseOptions({ args: [...args], allowPositionals: true, options: { all: { type: 'boolean', default: false } } });
  const [album] = positionals;
  if (values.all === (album !== undefined) || positionals.length > 1) throw new UsageError(PUBLISH_USAGE);
  return withServices(async (services) => {
    const { publishing } = services.library;
    const released = values.all ? publishing.publishAll() : publishing.publish(album!);
    if (released === 0) {
      const waiting = publishing.pending().map((entry) => entry.path);
      throw new UserError('NOT_WAITING', values.all ? 'Nothing is waiting for review.' : `"${album}" is not waiting for review; waiting: ${waiting.length === 0 ? 'nothing' : waiting.join(', ')}`);
    }
    await services.access.syncViews();
    print(`Published ${values.all ? 'every waiting album' : `"${album}"`} (${released} album${released === 1 ? '' : 's'}): every key that grants ${released === 1 ? 'it' : 'them'} sees ${released === 1 ? 'it' : 'them'} now.`);
    return 0;
  });
}
