import { randomBytes } from 'node:crypto';
import { access, constants, lstat, readdir, stat, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { statePaths, type Config } from '../config.js';
import { findRefusedLinks, type SkipRecord } from '../library/index.js';
import { isWithin } from '../paths.js';
import { loadSettings } from '../settings.js';
import { databaseFiles } from '../store/index.js';
import { checkSite } from '../static-server/index.js';
import { parseOptions } from './arguments.js';
import { print, UsageError, withServices } from './context.js';

interface Finding {
  readonly ok: boolean;
  readonly what: string;
  readonly fix?: string;
}

async function check(what: string, probe: () => Promise<unknown>, fix: string): Promise<Finding> {
  try {
    await probe();
    return { ok: true, what };
  } catch (error) {
    return { ok: false, what: `${what}: ${(error as Error).message}`, fix };
  }
}

function listed(links: readonly SkipRecord[]): string {
  return `${links.slice(0, 8).map((link) => link.path).join(', ')}${links.length > 8 ? ` and ${links.length - 8} more` : ''}`;
}

/** Links the catalogue refuses for where they lead: out of the media root, or into another album. */
function linkFindings(report: { links: readonly SkipRecord[]; complete: boolean }): Finding[] {
  const outside = report.links.filter((link) => link.reason === 'symlink-outside');
  const crossing = report.links.filter((link) => link.reason === 'symlink-crosses-albums');
  const partly = report.complete ? '' : ' (in the part of the media root that was looked at)';
  return [
    outside.length === 0
      ? { ok: true, what: `no symlink in the media root leads outside it${partly}` }
      : { ok: false, what: `symlinks that lead outside the media root (never followed): ${listed(outside)}`, fix: 'remove them, or copy the photos into the media root' },
    crossing.length === 0
      ? { ok: true, what: `no symlink in the media root leads from one album into another${partly}` }
      : {
          ok: false,
          what: `symlinks that cross album boundaries (never followed: the grant is decided on where a photo really is): ${listed(crossing)}`,
          fix: 'remove them; to show a photo in two albums, copy it (or hard-link it)',
        },
  ];
}

function printFindings(findings: readonly Finding[]): number {
  for (const finding of findings) print(`${finding.ok ? 'ok  ' : 'FAIL'}  ${finding.what}${finding.fix === undefined ? '' : `\n      fix: ${finding.fix}`}`);
  return findings.every((finding) => finding.ok) ? 0 : 1;
}

/**
 * Paths a stranger might try to reach keepsake's state or the originals by: the folders by
 * their names, the database and secrets, and nginx's internal X-Accel prefixes.
 */
function privatePaths(config: Config): string[] {
  const names = new Set(['data', 'media-root', 'webroot', 'views', 'cache', 'secrets', path.basename(config.stateDir), path.basename(config.mediaRoot)]);
  const paths = ['/keepsake.db', '/keepsake.db-wal', '/secrets/link-key', '/secrets/cookie-key', '/_keepsake/media/', '/_keepsake/cache/'];
  for (const name of names) {
    const segment = `/${encodeURIComponent(name)}`;
    paths.push(`${segment}/`, `${segment}/keepsake.db`, `${segment}/secrets/link-key`);
  }
  return paths;
}

/** `keepsake doctor --url URL [--password P]`: the running site, checked from the outside. */
async function checkRunningSite(url: string, password: string | undefined): Promise<number> {
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new UsageError(`--url ${JSON.stringify(url)}: expected http://HOST:PORT/ or https://HOST/`);
  const config = loadSettings();
  print(`Checking ${url} from the outside${password === undefined ? ' (no --password: only what a stranger sees)' : ''}…`);
  const findings = await checkSite({ url, password, publicUrl: config.publicUrl, guard: config.guard, privatePaths: privatePaths(config) });
  return printFindings(findings);
}

/** A mode as `ls` would show its permission bits. */
function modeText(mode: number): string {
  return (mode & 0o777).toString(8).padStart(3, '0');
}

/**
 * The database (password hashes, live session ids) and the secrets must be keepsake's alone:
 * nginx needs only the web root, the views, the cache and the media root. Read before anything
 * is opened, since opening them sets the modes right again.
 */
async function privacyFindings(paths: ReturnType<typeof statePaths>): Promise<Finding[]> {
  const files = [...databaseFiles(paths.database), ...(await readdir(paths.secrets).catch(() => [])).map((name) => path.join(paths.secrets, name))];
  const wide: string[] = [];
  for (const file of files) {
    const mode = (await stat(file).catch(() => undefined))?.mode;
    if (mode !== undefined && (mode & 0o077) !== 0) wide.push(`${file} (${modeText(mode)})`);
  }
  const folderMode = (await stat(paths.secrets).catch(() => undefined))?.mode;
  const folderWide = folderMode !== undefined && (folderMode & 0o077) !== 0;
  return [
    wide.length === 0
      ? { ok: true, what: 'the database and the secrets are readable by keepsake\'s user alone (0600)' }
      : { ok: false, what: `readable by others: ${wide.join(', ')}`, fix: `chmod 600 ${wide.map((entry) => entry.replace(/ \(\d+\)$/, '')).join(' ')} (keepsake also sets 0600 at every start)` },
    !folderWide
      ? { ok: true, what: `the secrets folder is private (0700)` }
      : { ok: false, what: `the secrets folder ${paths.secrets} is open to others (${modeText(folderMode)})`, fix: `chmod 700 ${paths.secrets}` },
  ];
}

export async function doctorCommand(args: readonly string[] = []): Promise<number> {
  const { values } = parseOptions({ args: [...args], options: { url: { type: 'string' }, password: { type: 'string' } } });
  if (values.url !== undefined) return checkRunningSite(values.url, values.password);
  if (values.password !== undefined) throw new UsageError('--password goes with --url: keepsake doctor --url http://127.0.0.1:8081/ --password P');
  const privacy = await privacyFindings(statePaths(loadSettings()));
  return withServices(async (services) => {
    const paths = statePaths(services.settings);
    print(`media root: ${services.mediaRoot}\nstate dir:  ${services.settings.stateDir}`);
    const findings: Finding[] = [
      ...privacy,
      await check(`media root ${services.mediaRoot} is readable`, () => access(services.mediaRoot, constants.R_OK), 'give the keepsake user read access to the media root'),
      await check(`web root ${paths.webRoot} is writable`, () => access(paths.webRoot, constants.W_OK), 'give the keepsake user write access to the state dir'),
      await check(`cache ${services.cacheDir} is writable`, () => access(services.cacheDir, constants.W_OK), 'give the keepsake user write access to the state dir'),
      await check(
        'the web root supports symlinks',
        async () => {
          const probe = path.join(paths.webRoot, `.doctor-${randomBytes(4).toString('hex')}`);
          await symlink(paths.views, probe);
          await unlink(probe);
        },
        'put the state dir on a filesystem with symlinks (not FAT/exFAT or some network shares)',
      ),
      await check(
        'the web root holds no media and only token links',
        async () => {
          const media = isWithin(services.mediaRoot, paths.webRoot) || isWithin(paths.webRoot, services.mediaRoot);
          if (media) throw new Error('the media root and web root overlap');
          if ((await lstat(paths.webRoot)).isSymbolicLink()) throw new Error('the web root itself is a symlink');
        },
        'keep the media root outside the state dir and web root',
      ),
    ];
    findings.push(...linkFindings(await findRefusedLinks(services.mediaRoot, services.log, services.settings.ignoredNames)));
    return printFindings(findings);
  });
}
