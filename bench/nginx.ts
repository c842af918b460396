/**
 * nginx for the serving bench: one unprivileged instance per case, with its own prefix, temp
 * paths, pid file and logs in a temp folder, one worker, on an ephemeral loopback port, in
 * the foreground as this process's child, stopped by its PID. What goes inside `http {}`
 * comes from keepsake's own generator (`renderNginxConfig`), or is the plain reference.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCommand, stopChild, tempFolder } from './common.js';

export const NGINX = '/usr/sbin/nginx';
/** Workers drop to this user when we are root, as a packaged nginx would. */
const NOBODY = { uid: 65534, gid: 65534 } as const;

/** The reference: nginx serving a plain folder. */
export function plainConfig(listen: string, root: string): string {
  return `server {\n    listen ${listen};\n    root ${root};\n    location / { }\n}\n`;
}

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface RunningNginx {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

function mainConfig(prefix: string, httpBlock: string, main: readonly string[]): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `${name}_temp_path ${prefix}/temp/${name};`);
  return `daemon off;
master_process on;
worker_processes 1;
${main.join('\n')}
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    ${temp.join('\n    ')}
    # Log lines are made and written, like keepsake's (which go to /dev/null in the bench too).
    access_log /dev/null combined;
    sendfile on;
    tcp_nopush on;
    # Node keeps a connection for any number of requests; so does nginx here.
    keepalive_requests 1000000;
${httpBlock}
}
`;
}

/**
 * Starts nginx with `httpBlock` inside `http {}`, on `port`, and `main` directives (such as
 * `pcre_jit on;`) in the main context; resolves once it answers.
 */
export async function startNginx(httpBlock: string, port: number, main: readonly string[] = []): Promise<RunningNginx> {
  const folder = await tempFolder('nginx');
  const prefix = folder.dir;
  for (const name of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(path.join(prefix, 'temp', name), { recursive: true });
  const conf = path.join(prefix, 'nginx.conf');
  await writeFile(conf, mainConfig(prefix, httpBlock, main));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await chownTree(prefix, ['temp', ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `temp/${name}`)]);
  const args = ['-p', prefix, '-c', conf, '-e', path.join(prefix, 'error.log')];
  const check = await runCommand(NGINX, [...args, '-t'], { timeoutMs: 10_000, ...(asRoot ? { user: NOBODY } : {}) });
  if (check.code !== 0) throw new Error(`nginx -t failed:\n${check.stderr}\n--- ${conf}\n${mainConfig(prefix, httpBlock, main)}`);
  const child: ChildProcess = spawn(NGINX, args, { stdio: ['ignore', 'ignore', 'pipe'], ...(asRoot ? NOBODY : {}) });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    stopChild(child);
    await exited;
    await folder.remove();
  };
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (child.exitCode !== null) break;
    const answered = await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false);
    if (answered) return { port, pid: child.pid ?? -1, stop };
    await sleep(50);
  }
  await stop();
  throw new Error(`nginx did not start on port ${port}: ${stderr}`);
}

/** The prefix and its temp folders belong to the unprivileged user nginx runs as. */
async function chownTree(prefix: string, relatives: readonly string[]): Promise<void> {
  await chown(prefix, NOBODY.uid, NOBODY.gid);
  for (const relative of relatives) await chown(path.join(prefix, relative), NOBODY.uid, NOBODY.gid);
}

/** Lets the unprivileged nginx walk into a temp folder made with mode 0700. */
export async function openForNginx(...dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) await chmod(dir, 0o755);
}
