import { realpathSync } from 'node:fs';
import path from 'node:path';
import { statePaths } from '../config.js';
import { configuredVariants, servedVariantsOf } from '../derivatives/index.js';
import { videoTools } from '../ffmpeg.js';
import { loadSettings, type Settings } from '../settings.js';
import { LINK_SCRIPT_NAME, renderStaticServerConfig, STATIC_SERVERS, writeLinkScript, writeRefusalPages, type NginxRenderOptions, type StaticServer } from '../static-server/index.js';
import { loadLinkSecret } from '../services.js';
import { parseOptions } from './arguments.js';
import { UsageError } from './context.js';

const USAGE = `Usage: keepsake nginx-config [--server nginx|lighttpd|apache] [--listen [ADDR:]PORT] [--upstream ADDR:PORT]
                             [--server-name NAME] [--tls-cert FILE --tls-key FILE] [--accel] [--access-log FILE]

Prints a configuration for a web server in front of keepsake, with the paths, secret and guard
settings of the running configuration. nginx: include it inside http { }.`;

/** The path as the server will see it: symlinks resolved when the folder exists already. */
function realOrResolved(folder: string): string {
  try {
    return realpathSync(folder);
  } catch {
    return path.resolve(folder);
  }
}

/** keepsake's own address, reachable from a server on the same machine. */
function defaultUpstream(config: Settings): string {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

function parseServer(value: string | undefined): StaticServer {
  const server = value ?? 'nginx';
  if (!(STATIC_SERVERS as readonly string[]).includes(server)) throw new UsageError(`--server ${JSON.stringify(server)}: expected ${STATIC_SERVERS.join(', ')}\n\n${USAGE}`);
  return server as StaticServer;
}

/** Advice on stderr, so that stdout stays a configuration file that can be redirected as is. */
function warnAbout(config: Settings, server: StaticServer, accel: boolean): void {
  const notes: string[] = [];
  if (config.trustProxy.mode === 'none') notes.push('keepsake trusts no proxy yet: run it with KEEPSAKE_TRUST_PROXY=127.0.0.1 (the server\'s address) so logins and limits see real client addresses.');
  if (accel && config.accel !== 'nginx') notes.push('--accel needs keepsake to run with KEEPSAKE_ACCEL=nginx.');
  if (!accel && server === 'nginx' && config.accel === 'nginx') notes.push('keepsake runs with KEEPSAKE_ACCEL=nginx; this static config serves that too (its internal locations are included).');
  const missingVideoTools = videoTools().missing;
  if (missingVideoTools !== undefined) notes.push(`${missingVideoTools}; this configuration has no place for video copies: regenerate it once ffmpeg is installed.`);
  for (const note of notes) process.stderr.write(`keepsake: ${note}\n`);
}

export async function nginxConfigCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseOptions({
    args: [...args],
    allowPositionals: true,
    options: {
      server: { type: 'string' },
      listen: { type: 'string' },
      upstream: { type: 'string' },
      'server-name': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      accel: { type: 'boolean', default: false },
      'access-log': { type: 'string' },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected ${JSON.stringify(positionals[0])}\n\n${USAGE}`);
  const server = parseServer(values.server);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new UsageError(`--tls-cert and --tls-key go together\n\n${USAGE}`);
  if (values.accel && server !== 'nginx') throw new UsageError(`--accel: X-Accel-Redirect is nginx's; ${server} does not use it`);
  const config = loadSettings();
  const paths = statePaths(config);
  const tls = values['tls-cert'] === undefined || values['tls-key'] === undefined ? undefined : { certificate: path.resolve(values['tls-cert']), key: path.resolve(values['tls-key']) };
  const linkScript = server === 'nginx' ? undefined : path.join(realOrResolved(config.stateDir), server, LINK_SCRIPT_NAME);
  const options: NginxRenderOptions = {
    webRoot: realOrResolved(paths.webRoot),
    mediaRoot: realOrResolved(config.mediaRoot),
    cacheDir: realOrResolved(paths.cache),
    refusalsDir: path.join(realOrResolved(config.stateDir), 'refusals'),
    linkSecret: await loadLinkSecret(config),
    upstream: values.upstream ?? defaultUpstream(config),
    listen: values.listen,
    serverName: values['server-name'],
    tls,
    publicUrl: config.publicUrl,
    guard: config.guard,
    accel: values.accel,
    derivativeVariants: servedVariantsOf(configuredVariants(config.presets), videoTools()),
    derivativeFormat: config.imageFormat,
    ignoredNames: config.ignoredNames,
    accessLog: values['access-log'],
    linkScript,
  };
  let text: string;
  try {
    text = renderStaticServerConfig(server, options);
  } catch (error) {
    // The generators name the bad value; for the command line that is a usage error.
    if (error instanceof TypeError) throw new UsageError(error.message);
    throw error;
  }
  // The files a lighttpd or Apache configuration answers refusals from; keepsake rewrites them at every start.
  if (server !== 'nginx') await writeRefusalPages(paths.refusals);
  // The script the configuration names: printed text and script are written together.
  if (server !== 'nginx') await writeLinkScript(server, options);
  process.stdout.write(text);
  warnAbout(config, server, values.accel);
  return 0;
}
