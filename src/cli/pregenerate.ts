import cliProgress from 'cli-progress';
import type { MediaItem } from '../library/index.js';
import type { Services } from '../services.js';
import { print, UsageError, withServices } from './context.js';

/** Every image in the album (and its sub-albums), or in every album when none is named. */
function imagesUnder(services: Services, album: string | undefined): MediaItem[] {
  const albums = services.library.albumPaths().filter((path) => album === undefined || path === album || path.startsWith(`${album}/`));
  if (album !== undefined && albums.length === 0) throw new UsageError(`no album "${album}" in the catalogue; albums: ${services.library.albumPaths().slice(0, 10).join(', ')}`);
  return albums.flatMap((path) => services.library.listing(path)?.items ?? []).filter((item) => item.type === 'image');
}

/**
 * `keepsake pregenerate [album]`: makes every variant ahead of time with a progress bar.
 * What already exists is skipped, so an interrupted run (Ctrl-C) resumes where it stopped.
 */
export async function pregenerateCommand(args: readonly string[]): Promise<number> {
  if (args.length > 1) throw new UsageError('Usage: keepsake pregenerate [album]');
  return withServices(async (services) => {
    const items = imagesUnder(services, args[0]);
    let interrupted = false;
    const onInterrupt = () => {
      interrupted = true;
    };
    process.once('SIGINT', onInterrupt);
    const bar = new cliProgress.SingleBar(
      { format: 'pregenerate [{bar}] {value}/{total} photos · {rate}/s · ETA {eta_formatted} · {failed} failed', hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    const started = Date.now();
    let failed = 0;
    bar.start(items.length, 0, { rate: '0.0', failed });
    let next = 0;
    // As many photos at once as the derivative queue runs, so the queue never idles or floods.
    const workers = Array.from({ length: services.settings.derivativeConcurrency }, async () => {
      while (!interrupted && next < items.length) {
        const item = items[next++]!;
        try {
          await services.derivatives.ensureAll(services.sourceOf(item), services.derivatives.variants, 'background');
        } catch {
          failed += 1; // the derivatives module logged why
        }
        bar.increment({ rate: (bar.getProgress() * items.length / Math.max(1, (Date.now() - started) / 1000)).toFixed(1), failed });
      }
    });
    await Promise.all(workers);
    bar.stop();
    process.removeListener('SIGINT', onInterrupt);
    if (interrupted) {
      print('Interrupted; run the same command again to resume.');
      return 130;
    }
    print(`Made every variant of ${items.length} photo${items.length === 1 ? '' : 's'} in ${((Date.now() - started) / 1000).toFixed(1)} s${failed > 0 ? ` (${failed} could not be read; see the log)` : ''}.`);
    return failed > 0 ? 1 : 0;
  });
}
