import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile, realpath, writeFile } from 'node:fs/promises';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { renderNginxConfig } from '../../src/static-server/index.js';
import { tempDir } from './fixtures.js';
import type { TestServer } from './server.js';

/*
 * Real web servers in front of a test keepsake (Debian's nginx first), unprivileged on loopback
 * with their own prefix, temp paths, pid file and logs in a temp dir, in the foreground as our
 * child, stopped by their PID.
 */

export const NGINX = '/usr/sbin/nginx';
export const NGINX_MISSING = existsSync(NGINX) ? undefined : `${NGINX} is not installed (Debian: apt-get install nginx-light)`;

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
  return (await readFile(path.join(server.stateDir, 'secrets', 'link-key'), 'utf8')).trim();
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
    accel: options.accel ?? false,
    accessLog,
  });
  return startNginx(dir, site, port);
}
