import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, chown, readdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { LINK_SCRIPT_NAME, renderApacheConfig, renderLighttpdConfig, renderNginxConfig, writeLinkScript } from '../../src/static-server/index.js';
import type { GuardConfig } from '../../src/guard/index.js';
import { tempDir } from './fixtures.js';
import type { TestServer } from './server.js';

/*
 * Real web servers in front of a test keepsake (Debian's nginx, lighttpd and Apache), unprivileged on loopback
 * with their own prefix, temp paths, pid file and logs in a temp dir, in the foreground as our
 * child, stopped by their PID.
 */

export const NGINX = '/usr/sbin/nginx';
export const NGINX_MISSING = existsSync(NGINX) ? undefined : `${NGINX} is not installed (Debian: apt-get install nginx-light)`;

export const LIGHTTPD = '/usr/sbin/lighttpd';
const LIGHTTPD_MODULES = ['/usr/lib/lighttpd/mod_proxy.so', '/usr/lib/lighttpd/mod_magnet.so'];
export const LIGHTTPD_MISSING = existsSync(LIGHTTPD) && LIGHTTPD_MODULES.every((module) => existsSync(module)) ? undefined : `${LIGHTTPD} with ${LIGHTTPD_MODULES.join(' and ')} is not installed (Debian: apt-get install lighttpd lighttpd-modules-lua)`;

export const APACHE = '/usr/sbin/apache2';
export const APACHE_MODULES = '/usr/lib/apache2/modules';
/** What the generated Apache configuration needs (as in test/static-server.test.ts), and an MPM. */
const APACHE_MODULE_NAMES = ['mpm_event', 'authz_core', 'authz_host', 'proxy', 'proxy_http', 'headers', 'rewrite', 'alias', 'mime', 'lua'] as const;
export const APACHE_MISSING = existsSync(APACHE) && APACHE_MODULE_NAMES.every((name) => existsSync(`${APACHE_MODULES}/mod_${name}.so`))
  ? undefined
  : `${APACHE} with mod_${APACHE_MODULE_NAMES.join(', mod_')} is not installed (Debian: apt-get install apache2)`;

export type Answer = { readonly status: number; readonly headers: IncomingHttpHeaders; readonly body: Buffer };

/** One request exactly as written: node:http sends the path unnormalised (fetch would not). */
export function raw(base: string, rawPath: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const outgoing = request({ hostname, port, path: rawPath, method, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return new Promise((resolve) => server.close(() => resolve(port)));
}

export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket.end() !== undefined)).once('error', () => resolve(false));
  });
}

export type RunningWebServer = { readonly url: string; readonly dir: string; stop(): Promise<void> };

/** Starts `command args`, waits until `port` answers, and stops it by its PID. */
export async function startChild(command: string, args: readonly string[], port: number, dir: string, logFile: string): Promise<RunningWebServer> {
  const child: ChildProcess = spawn(command, [...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  for (let attempt = 0; !(await listening(port)); attempt += 1) {
    if (child.exitCode !== null || attempt > 100) {
      child.kill('SIGKILL');
      throw new Error(`${path.basename(command)} did not start: ${stderr}${await readFile(logFile, 'utf8').catch(() => '')}`);
    }
    await delay(50);
  }
  return {
    url: `http://127.0.0.1:${port}/`,
    dir,
    async stop() {
      if (child.exitCode === null && child.kill('SIGTERM')) await Promise.race([exited, delay(5000).then(() => child.kill('SIGKILL'))]);
    },
  };
}

/** nginx in the foreground, as our child, with everything it writes under `dir`. */
export async function startNginx(dir: string, site: string, port: number): Promise<RunningWebServer> {
  await writeFile(path.join(dir, 'keepsake.conf'), site);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `${kind}_temp_path ${dir}/${kind};`);
  // As root, workers would switch to `nobody`, which cannot read the 0700 temp dirs.
  const user = process.getuid?.() === 0 ? ['user root root;'] : [];
  const main = ['daemon off;', 'worker_processes 1;', `pid ${dir}/nginx.pid;`, ...user, 'events { worker_connections 128; }', `http { access_log off; ${temp.join(' ')} include ${dir}/keepsake.conf; }`];
  await writeFile(path.join(dir, 'nginx.conf'), `${main.join('\n')}\n`);
  return startChild(NGINX, ['-p', `${dir}/`, '-c', `${dir}/nginx.conf`, '-e', `${dir}/error.log`], port, dir, `${dir}/error.log`);
}

/** The link secret a test server made at its first start. */
export async function linkSecretOf(server: TestServer): Promise<string> {
  return server.services.secrets.linkKey;
}

/** nginx with keepsake's generated configuration in front of a test server. */
export async function nginxFor(server: TestServer, options: { accel?: boolean } = {}): Promise<RunningWebServer> {
  const dir = await tempDir('keepsake-nginx-');
  const port = await freePort();
  const { mediaRoot, cacheDir } = server.services;
  const accessLog = path.join(dir, 'keepsake.access.log');
  const site = renderNginxConfig({
    webRoot: await realpath(server.webRoot),
    mediaRoot,
    cacheDir,
    linkSecret: await linkSecretOf(server),
    upstream: new URL(server.url).host,
    listen: `127.0.0.1:${port}`,
    derivativeVariants: server.services.derivatives.servedVariants,
    accel: options.accel ?? false,
    accessLog,
  });
  return startNginx(dir, site, port);
}

/**
 * The account a server's workers switch to when the test runs as root (Apache will not serve as
 * root; lighttpd need not): Debian's `nobody`, in the group that owns that name. Not root: none,
 * the server keeps our own unprivileged user.
 */
export async function workerAccount(): Promise<{ user: string; group: string; uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = await readFile('/etc/passwd', 'utf8');
  const nobody = passwd.split('\n').map((line) => line.split(':')).find((fields) => fields[0] === 'nobody');
  if (nobody === undefined) throw new Error('running as root, but /etc/passwd has no `nobody` to run the server\'s workers as');
  const groups = (await readFile('/etc/group', 'utf8')).split('\n').map((line) => line.split(':'));
  const group = groups.find((fields) => fields[2] === nobody[3])?.[0] ?? 'nogroup';
  return { user: 'nobody', group, uid: Number(nobody[2]), gid: Number(nobody[3]) };
}

/**
 * Lets other users walk down to `target` (o+x on every folder from below the temp dir to it, o+r
 * on the target itself), so a server's workers running as `nobody` can read it. Temp dirs are
 * made 0700; nothing else is opened up.
 */
export async function makeTraversable(target: string): Promise<void> {
  const top = await realpath(tmpdir());
  const real = await realpath(target);
  if (!real.startsWith(`${top}${path.sep}`)) throw new Error(`${real} is not under ${top}: not opening it up`);
  const info = await stat(real);
  await chmod(real, info.mode | (info.isDirectory() ? 0o005 : 0o004));
  for (let folder = path.dirname(real); folder.startsWith(`${top}${path.sep}`); folder = path.dirname(folder)) {
    await chmod(folder, (await stat(folder)).mode | 0o001);
  }
}

/** The generator options shared by every server in front of a test keepsake. */
async function renderOptions(server: TestServer, port: number) {
  const { mediaRoot, cacheDir } = server.services;
  return {
    webRoot: await realpath(server.webRoot),
    mediaRoot,
    cacheDir,
    refusalsDir: path.join(await realpath(server.stateDir), 'refusals'),
    linkSecret: await linkSecretOf(server),
    upstream: new URL(server.url).host,
    listen: `127.0.0.1:${port}`,
    derivativeVariants: server.services.derivatives.servedVariants,
  };
}

/** The refusal bodies a server answers from files must be readable by its unprivileged workers. */
async function openRefusals(refusalsDir: string): Promise<void> {
  for (const name of await readdir(refusalsDir)) await makeTraversable(path.join(refusalsDir, name));
}

/**
 * lighttpd in the foreground (-D), as our child, with keepsake's generated configuration included
 * from a minimal main configuration; pid file and error log under `dir`. As root it switches to
 * `nobody` once it has bound the port, and opens its log after that: `dir` is handed to `nobody`.
 */
export async function startLighttpd(dir: string, site: string, port: number, webRoot: string, normalize = true): Promise<RunningWebServer> {
  await writeFile(path.join(dir, 'keepsake.conf'), site);
  const account = await workerAccount();
  const main = [
    `server.document-root = "${webRoot}"`,
    'server.bind = "127.0.0.1"',
    `server.port = ${port}`,
    `server.errorlog = "${dir}/error.log"`,
    `server.pid-file = "${dir}/lighttpd.pid"`,
    `server.upload-dirs = ( "${dir}" )`,
    ...(account === undefined ? [] : [`server.username = "${account.user}"`, `server.groupname = "${account.group}"`]),
    // Debian's /etc/lighttpd/lighttpd.conf normalises URLs so; keepsake's file is included below it.
    ...(normalize
      ? [
          'server.http-parseopts = ( "header-strict" => "enable", "host-strict" => "enable", "host-normalize" => "enable",',
          '  "url-normalize-unreserved" => "enable", "url-normalize-required" => "enable", "url-ctrls-reject" => "enable",',
          '  "url-path-2f-decode" => "enable", "url-path-dotseg-remove" => "enable" )',
        ]
      : []),
    `include "${dir}/keepsake.conf"`,
  ];
  await writeFile(path.join(dir, 'lighttpd.conf'), `${main.join('\n')}\n`);
  if (account !== undefined) {
    await makeTraversable(path.join(webRoot, 'robots.txt'));
    await chown(dir, account.uid, account.gid);
  }
  return startChild(LIGHTTPD, ['-D', '-f', `${dir}/lighttpd.conf`], port, dir, `${dir}/error.log`);
}

/** What a server that sends derivatives from disk must read as its unprivileged workers (only when we run as root). */
async function openForWorkers(server: TestServer, options: { refusalsDir: string; linkScript: string; webRoot: string; cacheDir: string }): Promise<void> {
  if ((await workerAccount()) === undefined) return;
  await openRefusals(options.refusalsDir);
  await makeTraversable(options.linkScript);
  for (const folder of [options.webRoot, path.join(await realpath(server.stateDir), 'views'), options.cacheDir]) await makeTraversable(folder);
}

/**
 * lighttpd with keepsake's generated configuration and mod_magnet script in front of a test server:
 * it sends proven derivatives from disk and proxies the rest. Its unprivileged workers are let
 * read what that takes: the script, the refusal bodies, the web root, the views and the cache.
 */
export async function lighttpdFor(server: TestServer, extra: { guard?: GuardConfig; normalize?: boolean } = {}): Promise<RunningWebServer> {
  const dir = await tempDir('keepsake-lighttpd-');
  const port = await freePort();
  const options = { ...(await renderOptions(server, port)), ...(extra.guard === undefined ? {} : { guard: extra.guard }), linkScript: path.join(dir, 'script', LINK_SCRIPT_NAME), accessLog: path.join(dir, 'access.log') };
  await writeLinkScript('lighttpd', options);
  await openForWorkers(server, options);
  return startLighttpd(dir, renderLighttpdConfig(options), port, options.webRoot, extra.normalize ?? true);
}

/**
 * Apache (mpm_event) in the foreground (-DFOREGROUND), as our child, with keepsake's generated
 * configuration included from a minimal main configuration; pid file, runtime dir, mutexes and
 * error log under `dir`, written by the master. Apache will not serve as root, so as root its
 * workers run as `nobody`.
 */
export async function startApache(dir: string, site: string, port: number, webRoot: string): Promise<RunningWebServer> {
  await writeFile(path.join(dir, 'keepsake.conf'), site);
  const account = await workerAccount();
  const main = [
    `ServerRoot "${dir}"`,
    'ServerName localhost',
    `PidFile "${dir}/httpd.pid"`,
    `DefaultRuntimeDir "${dir}"`,
    `ErrorLog "${dir}/error.log"`,
    'LogLevel warn',
    `Mutex file:${dir} default`,
    // mod_mime (for ForceType) wants a types file; the generated file says every type it sends.
    'TypesConfig /dev/null',
    ...(account === undefined ? [] : [`User ${account.user}`, `Group ${account.group}`]),
    ...APACHE_MODULE_NAMES.map((name) => `LoadModule ${name}_module ${APACHE_MODULES}/mod_${name}.so`),
    // One child process is plenty for a test, and quick to start and stop.
    'StartServers 1',
    'ServerLimit 1',
    'ThreadsPerChild 32',
    'MaxRequestWorkers 32',
    'MinSpareThreads 1',
    'MaxSpareThreads 32',
    `Listen 127.0.0.1:${port}`,
    `Include "${dir}/keepsake.conf"`,
  ];
  await writeFile(path.join(dir, 'httpd.conf'), `${main.join('\n')}\n`);
  // The workers read only robots.txt from disk (the rest is proxied); the master writes the logs.
  if (account !== undefined) await makeTraversable(path.join(webRoot, 'robots.txt'));
  return startChild(APACHE, ['-f', `${dir}/httpd.conf`, '-DFOREGROUND'], port, dir, `${dir}/error.log`);
}

/** Apache with keepsake's generated configuration in front of a test server (it proxies media). */
export async function apacheFor(server: TestServer, extra: { guard?: GuardConfig } = {}): Promise<RunningWebServer> {
  const dir = await tempDir('keepsake-apache-');
  const port = await freePort();
  const options = { ...(await renderOptions(server, port)), ...extra, linkScript: path.join(dir, 'script', LINK_SCRIPT_NAME), accessLog: path.join(dir, 'access.log') };
  await writeLinkScript('apache', options);
  await openForWorkers(server, options);
  return startApache(dir, renderApacheConfig(options), port, options.webRoot);
}
