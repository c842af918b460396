import { randomBytes } from 'node:crypto';
import { access, constants, lstat, opendir, realpath, stat, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, statePaths, type Config } from '../config.js';
import { isWithin } from '../paths.js';
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

/** Symlinks inside the media root whose target lies outside it (never followed, but worth knowing). */
async function plantedLinks(mediaRoot: string, limit = 10_000): Promise<string[]> {
  const found: string[] = [];
  const pending = [mediaRoot];
  let seen = 0;
  while (pending.length > 0 && seen < limit) {
    const directory = pending.pop()!;
    for await (const entry of await opendir(directory)) {
      seen += 1;
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) pending.push(full);
      else if (entry.isSymbolicLink()) {
        const target = await realpath(full).catch(() => undefined);
        if (target === undefined || !isWithin(mediaRoot, target)) found.push(path.relative(mediaRoot, full));
      }
    }
  }
  return found;
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
  const config = loadConfig();
  print(`Checking ${url} from the outside${password === undefined ? ' (no --password: only what a stranger sees)' : ''}…`);
  const findings = await checkSite({ url, password, publicUrl: config.publicUrl, guard: config.guard, privatePaths: privatePaths(config) });
  return printFindings(findings);
}

export async function doctorCommand(args: readonly string[] = []): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { url: { type: 'string' }, password: { type: 'string' } } });
  if (values.url !== undefined) return checkRunningSite(values.url, values.password);
  if (values.password !== undefined) throw new UsageError('--password goes with --url: keepsake doctor --url http://127.0.0.1:8081/ --password P');
  return withServices(async (services) => {
    const paths = statePaths(services.config);
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
    const planted = await plantedLinks(services.mediaRoot);
    findings.push(
      planted.length === 0
        ? { ok: true, what: 'no symlink in the media root points outside it' }
        : { ok: false, what: `symlinks in the media root point outside it (never followed): ${planted.slice(0, 5).join(', ')}${planted.length > 5 ? ' …' : ''}`, fix: 'remove them, or copy the photos into the media root' },
    );
    return printFindings(findings);
  });
}
