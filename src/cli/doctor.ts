import { randomBytes } from 'node:crypto';
import { access, constants, lstat, stat, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { statePaths, type Config } from '../config.js';
import { findRefusedLinks, type SkipRecord } from '../library/index.js';
import { isWithin } from '../paths.js';
import { loadSettings } from '../settings.js';
import { checkSite } from '../static-server/index.js';
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

export async function doctorCommand(args: readonly string[] = []): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { url: { type: 'string' }, password: { type: 'string' } } });
  if (values.url !== undefined) return checkRunningSite(values.url, values.password);
  if (values.password !== undefined) throw new UsageError('--password goes with --url: keepsake doctor --url http://127.0.0.1:8081/ --password P');
  return withServices(async (services) => {
    const paths = statePaths(services.settings);
    const findings: Finding[] = [
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
        'secrets are private (mode 0600)',
        async () => {
          const mode = (await stat(path.join(paths.secrets, 'cookie-key')).catch(() => undefined))?.mode;
          if (mode !== undefined && (mode & 0o077) !== 0) throw new Error(`mode is ${(mode & 0o777).toString(8)}`);
        },
        `chmod 600 ${paths.secrets}/*`,
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
    findings.push(...linkFindings(await findRefusedLinks(services.mediaRoot, services.log)));
    return printFindings(findings);
  });
}
