import { parseArgs, type ParseArgsConfig } from 'node:util';
import ms from 'ms';
import { isAlbumGranted, type AlbumPlace, type LocationPolicy } from '../auth/index.js';
import { UsageError, warn } from './context.js';

/*
 * What the commands make of their arguments, in one place: options parsed strictly with node's
 * parseArgs (its refusals turned into one line that names the option), durations that carry
 * their unit, real calendar dates, and album grants that are never empty by accident.
 */

type ParsedOptions<T extends ParseArgsConfig> = ReturnType<typeof parseArgs<T>>;

/** A duration with its unit: `30d`, `12h`, `1.5h`, `90 minutes`. A bare number is not one (ms would read it as milliseconds). */
const DURATION_WITH_UNIT = /^(?:\d+(?:\.\d+)?|\.\d+) *[a-z]+$/i;
const NEGATIVE = /^- *\.?\d/;
const CALENDAR_DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,3})?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?$/;

/** node's strict parseArgs; what it refuses becomes one line naming the option, the value and what is wanted. */
export function parseOptions<T extends ParseArgsConfig>(config: T): ParsedOptions<T> {
  try {
    return parseArgs(config);
  } catch (error) {
    if (!isParseArgsError(error)) throw error;
    throw new UsageError(explainRefusal(config) ?? firstLine(error.message), { cause: error });
  }
}

export function isParseArgsError(error: unknown): error is Error & { code: string } {
  const code = (error as { code?: unknown } | undefined)?.code;
  return error instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}

/** Why strict parsing refused `config.args`, read from the tokens of a lenient parse of the same arguments. */
function explainRefusal(config: ParseArgsConfig): string | undefined {
  const options = config.options ?? {};
  const { tokens } = parseArgs({ ...config, strict: false, tokens: true });
  for (const token of tokens) {
    if (token.kind === 'positional' && config.allowPositionals !== true) return `unexpected argument ${JSON.stringify(token.value)}`;
    if (token.kind !== 'option') continue;
    const spec = options[token.name];
    if (spec === undefined) return `unknown option ${token.rawName}; expected one of ${Object.keys(options).map((name) => `--${name}`).join(', ')}`;
    if (spec.type === 'boolean' && token.value !== undefined) return `${token.rawName} takes no value (got ${JSON.stringify(token.value)})`;
    if (spec.type === 'string' && token.value === undefined) return `${token.rawName} needs a value`;
    if (spec.type === 'string' && token.value?.startsWith('-') === true && !token.inlineValue) {
      const written = `${token.rawName}=${token.value}`;
      if (NEGATIVE.test(token.value)) return `${token.rawName} ${JSON.stringify(token.value)}: negative values are not allowed (a value that really starts with "-" is written ${written})`;
      return `${token.rawName} needs a value, got the option ${JSON.stringify(token.value)} (a value that starts with "-" is written ${written})`;
    }
  }
  return undefined;
}

/** A duration with its unit, in milliseconds; undefined for anything else. */
function durationWithUnit(value: string): number | undefined {
  if (!DURATION_WITH_UNIT.test(value.trim())) return undefined;
  const duration = ms(value.trim() as ms.StringValue);
  return typeof duration === 'number' && Number.isFinite(duration) ? duration : undefined;
}

/** `--ttl 24h`, `--valid 7d`, `--since 1h`: a positive duration with its unit, at least `least` when given. */
export function parseDuration(option: string, value: string, least?: ms.StringValue): number {
  if (NEGATIVE.test(value.trim())) throw new UsageError(`${option} ${JSON.stringify(value)}: a duration cannot be negative`);
  const duration = durationWithUnit(value);
  const minimum = least === undefined ? 1 : ms(least);
  if (duration === undefined || duration < minimum) {
    throw new UsageError(`${option} ${JSON.stringify(value)}: expected a duration with its unit${least === undefined ? '' : `, of at least ${least}`}, such as 24h or 7d`);
  }
  return duration;
}

/** True when `YYYY-MM-DD` names a day that exists (Date would roll 2027-02-30 over into March). */
function isCalendarDate(date: string): boolean {
  const time = Date.parse(`${date}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === date;
}

/** `--expires`: a calendar date (`2027-01-01`, midnight UTC), an ISO date-time, or a duration from now with its unit (`30d`); in the future. */
export function parseExpiry(value: string | undefined, now = Date.now()): number | null {
  if (value === undefined) return null;
  const shown = `--expires ${JSON.stringify(value)}`;
  let expiresAt: number;
  const date = CALENDAR_DATE.test(value) ? value : DATE_TIME.exec(value)?.[1];
  if (date !== undefined) {
    if (!isCalendarDate(date)) throw new UsageError(`${shown}: there is no such date; expected a date such as 2027-01-01`);
    expiresAt = Date.parse(value);
  } else {
    if (NEGATIVE.test(value.trim())) throw new UsageError(`${shown}: a duration cannot be negative`);
    const duration = durationWithUnit(value);
    if (duration === undefined || duration <= 0) throw new UsageError(`${shown}: expected a date such as 2027-01-01 or a duration with its unit, such as 30d`);
    expiresAt = now + duration;
  }
  if (Number.isNaN(expiresAt) || expiresAt <= now) throw new UsageError(`${shown}: expected a time in the future`);
  return expiresAt;
}

/**
 * The album patterns of `--albums a,b` and `--album NAME`…; none given is the default grant (every
 * album). A grant that is given but says nothing (`--albums ''`, `--albums ,,`, `--album ''`) is
 * refused: an empty list would otherwise be read as that default, and open every album.
 */
export function parseGrant(values: { readonly albums?: string | undefined; readonly album?: readonly string[] | undefined }): string[] {
  const listed = values.albums === undefined ? [] : values.albums.split(',').map((album) => album.trim()).filter((album) => album !== '');
  if (values.albums !== undefined && listed.length === 0) throw new UsageError(`--albums ${JSON.stringify(values.albums)}: expected album names or patterns (use '*' for every album)`);
  const named = (values.album ?? []).map((album) => {
    if (album.trim() === '') throw new UsageError(`--album ${JSON.stringify(album)}: expected an album name or pattern (use '*' for every album)`);
    return album.trim();
  });
  return [...listed, ...named];
}

/** One warning line for the patterns no album in the catalogue matches now (kept: the album may come, or come back, later). */
export function warnOfUnmatchedPatterns(patterns: readonly string[], albums: readonly AlbumPlace[]): void {
  const unmatched = patterns.filter((pattern) => !albums.some((album) => isAlbumGranted([pattern], album.path)));
  if (unmatched.length === 0) return;
  const empty = albums.length === 0 ? ' (the catalogue is empty: start the server once so it scans the media root)' : '';
  warn(`no album matches ${unmatched.map((pattern) => JSON.stringify(pattern)).join(', ')} now; kept for when one appears${empty}`);
}

/**
 * One line when a grant may download originals but is told less than exact places: an original is
 * the camera's own file, GPS and all, whatever the location policy says of the API.
 */
export function warnOriginalsCarryPlaces(grant: { readonly canDownloadOriginals: boolean; readonly location: LocationPolicy }, what: string): void {
  if (!grant.canDownloadOriginals || grant.location === 'exact') return;
  warn(`${what} may download originals, the camera's own files with their GPS; its places stay ${grant.location} only in the gallery. Add --no-originals to keep where photos were taken from it`);
}
