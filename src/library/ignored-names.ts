import type { ConfigSection } from '../config.js';

/*
 * Names that are never an album or a photo, whatever they hold: what NAS systems, operating
 * systems and sync tools keep for themselves beside the photos. Synology's `#recycle` holds
 * deleted photos (an album of them would bring back what the admin threw away) and `@eaDir`
 * its own thumbnails; QNAP has `@Recycle` and `.@__thumb`; Windows `$RECYCLE.BIN`, `System
 * Volume Information` and `Thumbs.db`; macOS `.DS_Store` and `._*` resource forks. Names are
 * compared without regard to case; `*` stands for any run of characters.
 */
export const DEFAULT_IGNORED_NAMES: readonly string[] = [
  '#recycle',
  '#snapshot',
  '@eaDir',
  '@Recycle',
  '@Recently-Snapshot',
  '.@__thumb',
  '$RECYCLE.BIN',
  'System Volume Information',
  'lost+found',
  'Thumbs.db',
  'desktop.ini',
  '.DS_Store',
  '._*',
  '.Trashes',
  '.Spotlight-V100',
  '.fseventsd',
  '.stfolder',
  '.stversions',
  '.sync',
];

export type NameFilter = (name: string) => boolean;

/**
 * The list as one regular expression source for a whole name (to be matched without regard to
 * case): what keepsake matches names with, and what a static server's configuration refuses.
 */
export function ignoredNamesSource(names: readonly string[]): string {
  const alternatives = names.map((name) => name.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('.*'));
  return alternatives.length === 0 ? '(?!)' : `(?:${alternatives.join('|')})`;
}

/** True for a name on the list. */
export function compileIgnoredNames(names: readonly string[]): NameFilter {
  const pattern = new RegExp(`^${ignoredNamesSource(names)}$`, 'i');
  return (name) => pattern.test(name);
}

const ALLOWED = 'a comma-separated list of file or folder names (`*` for any characters), e.g. "#recycle,@eaDir,._*"';

function parseNames(raw: unknown): ReturnType<ConfigSection<readonly string[]>['parse']> {
  if (raw === undefined || raw === null) return { ok: true, value: DEFAULT_IGNORED_NAMES };
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
  if (list === undefined || !list.every((entry) => typeof entry === 'string')) return { ok: false, problems: [`expected ${ALLOWED}`] };
  const names = list.map((entry: string) => entry.trim()).filter((entry) => entry !== '');
  const bad = names.filter((entry) => /[/\\\0]/.test(entry) || /^\**$/.test(entry));
  if (bad.length > 0) return { ok: false, problems: [`${bad.map((entry) => JSON.stringify(entry)).join(', ')} is not a name; expected ${ALLOWED}`] };
  return { ok: true, value: Object.freeze(names) };
}

/** KEEPSAKE_IGNORED_NAMES, or `ignoredNames` in the config file (a list): replaces the default list. */
export const ignoredNamesSection: ConfigSection<readonly string[]> = { env: 'KEEPSAKE_IGNORED_NAMES', envFormat: 'text', parse: parseNames };
