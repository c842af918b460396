import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { mkdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { blockedUserAgentPatterns, resolveGuardConfig, type GuardConfig } from '../src/guard/index.js';
import { ACCEL_PREFIXES, MEDIA_FORMATS } from '../src/media-contract.js';
import { LINK_SCRIPT_NAME, renderApacheConfig, renderLighttpdConfig, renderNginxConfig, writeLinkScript, type NginxRenderOptions } from '../src/static-server/index.js';
import { runKeepsake } from './helpers/cli.js';
import { tempDir } from './helpers/fixtures.js';

/*
 * The generated configurations, checked by each server's own syntax checker. A checker that is
 * not installed skips its tests with the reason, except in CI, where the tests fail instead.
 */

const run = promisify(execFile);
const NGINX = '/usr/sbin/nginx';
const LIGHTTPD = '/usr/sbin/lighttpd';
const APACHE = '/usr/sbin/apache2';
const APACHE_MODULES = '/usr/lib/apache2/modules';
const OPENSSL = '/usr/bin/openssl';

function skipUnless(binary: string, packageName: string): false | string {
  return existsSync(binary) || process.env['CI'] ? false : `${binary} is not installed (Debian: apt-get install ${packageName})`;
}

function guard(input: unknown): GuardConfig {
  const result = resolveGuardConfig(input);
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return result.config;
}

/** A guard configuration that exercises every branch the generators have. */
const OPERATOR_GUARD = guard({
  hotlink: { allowTypedUrl: false, allowEmptyReferer: true },
  userAgents: { block: ['Evil\\s?Scraper', 'Bot "quoted"'], allow: ['Friendly (Bot) 1.0'] },
  addresses: { block: ['203.0.113.0/24', '2001:db8::/32'] },
});

async function baseOptions(dir: string): Promise<NginxRenderOptions> {
  for (const folder of ['webroot', 'media root', 'cache']) await mkdir(path.join(dir, folder), { recursive: true });
  return {
    webRoot: path.join(dir, 'webroot'),
    mediaRoot: path.join(dir, 'media root'),
    cacheDir: path.join(dir, 'cache'),
    refusalsDir: path.join(dir, 'refusals'),
    linkSecret: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0',
    upstream: '127.0.0.1:8080',
    listen: '127.0.0.1:18081',
    accessLog: path.join(dir, 'keepsake.access.log'),
  };
}

/** A self-signed certificate for the TLS variants, or undefined without openssl. */
async function certificate(dir: string): Promise<{ certificate: string; key: string } | undefined> {
  if (!existsSync(OPENSSL)) return undefined;
  const tls = { certificate: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') };
  await run(OPENSSL, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', tls.key, '-out', tls.certificate]);
  return tls;
}

async function nginxAccepts(dir: string, site: string): Promise<void> {
  await writeFile(path.join(dir, 'keepsake.conf'), site);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `${kind}_temp_path ${dir}/${kind};`).join(' ');
  await writeFile(path.join(dir, 'nginx.conf'), `pid ${dir}/nginx.pid;\nevents {}\nhttp { access_log off; ${temp} include ${dir}/keepsake.conf; }\n`);
  const { stderr } = await run(NGINX, ['-t', '-p', `${dir}/`, '-c', `${dir}/nginx.conf`, '-e', `${dir}/error.log`]);
  assert.doesNotMatch(stderr, /\[(warn|emerg|crit)\]/, stderr);
}

describe('nginx configuration', { skip: skipUnless(NGINX, 'nginx-light') }, () => {
  it('passes `nginx -t` in static mode, in --accel mode, with every guard option, and with TLS', async (t) => {
    const dir = await tempDir('keepsake-nginx-t-');
    const options = await baseOptions(dir);
    await nginxAccepts(dir, renderNginxConfig(options));
    await nginxAccepts(dir, renderNginxConfig({ ...options, accel: true }));
    const disabled = guard({ hotlink: { enabled: false }, probing: { enabled: false }, userAgents: { enabled: false }, rates: { enabled: false } });
    await nginxAccepts(dir, renderNginxConfig({ ...options, guard: disabled }));
    await nginxAccepts(dir, renderNginxConfig({ ...options, guard: OPERATOR_GUARD, publicUrl: 'https://photos.example.org/', serverName: 'photos.example.org' }));
    const tls = await certificate(dir);
    if (tls !== undefined) await nginxAccepts(dir, renderNginxConfig({ ...options, listen: '127.0.0.1:18443', tls }));
    else t.diagnostic(`TLS variant not checked: ${OPENSSL} is not installed`);
  });

  it('carries every blocked user agent, media extension and security header, and the secret only in secure_link_md5', async () => {
    const options = await baseOptions(await tempDir('keepsake-nginx-text-'));
    const text = renderNginxConfig(options);
    for (const pattern of blockedUserAgentPatterns()) assert.ok(text.includes(`(?:${pattern})`), pattern);
    for (const extension of Object.keys(MEDIA_FORMATS)) assert.match(text, new RegExp(`\\b${extension.slice(1)}\\b`), extension);
    assert.match(text, /disable_symlinks on from=\$document_root\/\$keepsake_token\/\$keepsake_variant\/\$keepsake_album;/);
    assert.match(text, /error_page 301 403 404 418 = @keepsake;/);
    assert.match(text, /add_header X-Robots-Tag "noindex, nofollow, noimageindex" always;/);
    assert.equal(text.split(options.linkSecret).length, 2, 'the secret appears once');
    // The link cookie binds the token, the User-Agent, the secret and the user-agent policy (src/media-contract.ts).
    assert.match(text, /secure_link_md5 "\$\{keepsake_token\}\$\{http_user_agent\}c2Vj[^"]*[A-Za-z0-9_-]{12}";/);
    assert.equal(renderNginxConfig(options), text, 'same options, same text');
    for (const prefix of Object.values(ACCEL_PREFIXES)) assert.ok(text.includes(`location ^~ ${prefix} {`), `an internal location for ${prefix}, where keepsake redirects to`);
  });

  it('refuses options that would break or inject into the configuration, naming the setting', async () => {
    const options = await baseOptions(await tempDir('keepsake-nginx-bad-'));
    assert.throws(() => renderNginxConfig({ ...options, webRoot: '/srv/$document_root' }), /webRoot: expected an absolute path/);
    assert.throws(() => renderNginxConfig({ ...options, mediaRoot: 'relative/media' }), /mediaRoot: expected an absolute path/);
    assert.throws(() => renderNginxConfig({ ...options, listen: '127.0.0.1:99999' }), /listen: expected a port from 1 to 65535/);
    assert.throws(() => renderNginxConfig({ ...options, upstream: 'keepsake; evil' }), /upstream: expected ADDR:PORT/);
    assert.throws(() => renderNginxConfig({ ...options, serverName: 'x; return 200' }), /serverName: expected a host name/);
    assert.throws(() => renderNginxConfig({ ...options, linkSecret: 'short' }), (error: Error) => /linkSecret/.test(error.message) && !error.message.includes('short'));
  });
});

describe('lighttpd configuration', { skip: skipUnless(LIGHTTPD, 'lighttpd') }, () => {
  async function lighttpdAccepts(dir: string, site: string): Promise<void> {
    await writeFile(path.join(dir, 'keepsake.conf'), site);
    const main = [`server.document-root = "${dir}/webroot"`, 'server.bind = "127.0.0.1"', 'server.port = 18090', `server.errorlog = "${dir}/error.log"`, `include "${dir}/keepsake.conf"`];
    await writeFile(path.join(dir, 'lighttpd.conf'), `${main.join('\n')}\n`);
    const { stdout, stderr } = await run(LIGHTTPD, ['-tt', '-f', path.join(dir, 'lighttpd.conf')]);
    // lighttpd ignores a setting whose module is not loaded, with only a warning: a silent hole.
    assert.doesNotMatch(stdout + stderr, /WARNING|ERROR|unknown config-key/i, stdout + stderr);
  }

  it('passes `lighttpd -tt` with no ignored setting, with the defaults and every guard option', async (t) => {
    const dir = await tempDir('keepsake-lighttpd-');
    const options = await baseOptions(dir);
    const withScript = { ...options, linkScript: path.join(dir, 'lighttpd', LINK_SCRIPT_NAME) };
    await writeLinkScript('lighttpd', withScript);
    await lighttpdAccepts(dir, renderLighttpdConfig(withScript));
    await lighttpdAccepts(dir, renderLighttpdConfig({ ...withScript, guard: OPERATOR_GUARD, publicUrl: 'https://photos.example.org' }));
    const tls = existsSync('/usr/lib/lighttpd/mod_openssl.so') ? await certificate(dir) : undefined;
    if (tls !== undefined) await lighttpdAccepts(dir, renderLighttpdConfig({ ...withScript, tls }));
    else t.diagnostic('TLS variant not checked: needs mod_openssl (lighttpd-mod-openssl) and openssl');
  });

  it('says what it sends from disk and what it leaves to keepsake, and refuses --accel', async () => {
    const dir = await tempDir('keepsake-lighttpd-text-');
    const options = { ...(await baseOptions(dir)), linkScript: path.join(dir, LINK_SCRIPT_NAME) };
    const site = renderLighttpdConfig(options);
    assert.match(site, /What it serves from disk: derivatives/);
    assert.match(site, /Originals and videos always go to keepsake/);
    assert.match(site, /lighttpd-modules-lua/);
    assert.throws(() => renderLighttpdConfig({ ...options, accel: true }), /accel: X-Accel-Redirect is nginx's/);
  });
});

describe('Apache configuration', { skip: skipUnless(APACHE, 'apache2') }, () => {
  async function apacheAccepts(dir: string, site: string, tls: boolean): Promise<void> {
    await writeFile(path.join(dir, 'keepsake.conf'), site);
    const modules = ['mpm_event', 'authz_core', 'authz_host', 'proxy', 'proxy_http', 'headers', 'rewrite', 'alias', 'mime', 'lua', ...(tls ? ['ssl'] : [])];
    const main = [
      `ServerRoot "${dir}"`,
      'ServerName localhost',
      `PidFile "${dir}/httpd.pid"`,
      `ErrorLog "${dir}/error.log"`,
      `Mutex file:${dir} default`,
      ...modules.map((name) => `LoadModule ${name}_module ${APACHE_MODULES}/mod_${name}.so`),
      `Listen ${tls ? '127.0.0.1:18443' : '127.0.0.1:18081'}`,
      `Include "${dir}/keepsake.conf"`,
    ];
    await writeFile(path.join(dir, 'httpd.conf'), `${main.join('\n')}\n`);
    const { stdout, stderr } = await run(APACHE, ['-t', '-f', path.join(dir, 'httpd.conf')]);
    assert.match(stdout + stderr, /Syntax OK/, stdout + stderr);
  }

  it('passes `apache2 -t` with the defaults, every guard option and TLS', async (t) => {
    const dir = await tempDir('keepsake-apache-');
    const options = { ...(await baseOptions(dir)), linkScript: path.join(dir, 'apache', LINK_SCRIPT_NAME) };
    await writeLinkScript('apache', options);
    await apacheAccepts(dir, renderApacheConfig(options), false);
    await apacheAccepts(dir, renderApacheConfig({ ...options, guard: OPERATOR_GUARD, publicUrl: 'https://photos.example.org', serverName: 'photos.example.org' }), false);
    const tls = await certificate(dir);
    if (tls !== undefined) await apacheAccepts(dir, renderApacheConfig({ ...options, listen: '127.0.0.1:18443', tls }), true);
    else t.diagnostic(`TLS variant not checked: ${OPENSSL} is not installed`);
  });
});

describe('keepsake doctor --url', () => {
  it('names what is wrong with a server that serves everything', async () => {
    // A careless server: 200 and a listing for every path, no headers, no refusals.
    const careless = createServer((_request, response) => response.end('<h1>Index of /</h1><a href="keepsake.db">keepsake.db</a>'));
    await new Promise<void>((resolve) => careless.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = careless.address() as { port: number };
      const result = await runKeepsake(['doctor', '--url', `http://127.0.0.1:${port}/`], { KEEPSAKE_STATE_DIR: await tempDir('keepsake-doctor-') });
      assert.equal(result.code, 1, result.stdout + result.stderr);
      for (const problem of [/FAIL\s+\/robots\.txt/, /FAIL\s+the login page carries/, /FAIL\s+an unknown token is dead/, /FAIL\s+no directory listing/, /FAIL\s+reachable from outside: \/keepsake\.db/]) {
        assert.match(result.stdout, problem);
      }
      assert.match(result.stdout, /fix: /);
    } finally {
      careless.close();
    }
  });
});

describe('keepsake nginx-config', () => {
  it('prints the configuration of the running settings, with absolute paths and the link secret', async () => {
    const stateDir = await tempDir('keepsake-nginx-config-');
    const env = { KEEPSAKE_STATE_DIR: stateDir, KEEPSAKE_MEDIA_ROOT: await tempDir('keepsake-media-'), KEEPSAKE_PORT: '8123', KEEPSAKE_TRUST_PROXY: '127.0.0.1' };
    const printed = await runKeepsake(['nginx-config', '--listen', '127.0.0.1:18082', '--server-name', 'photos.example.org'], env);
    assert.equal(printed.code, 0, printed.stderr);
    const secret = (await readFile(path.join(stateDir, 'secrets', 'link-key'), 'utf8')).trim();
    assert.ok(printed.stdout.includes(`secure_link_md5 "\${keepsake_token}\${http_user_agent}${secret}`));
    assert.match(printed.stdout, /server 127\.0\.0\.1:8123;/);
    assert.match(printed.stdout, new RegExp(`root "${path.join(stateDir, 'webroot').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}";`));
    assert.equal(printed.stderr, '', 'no advice needed: the proxy is trusted');
    const lighttpd = await runKeepsake(['nginx-config', '--server', 'lighttpd', '--accel'], env);
    assert.equal(lighttpd.code, 2);
    assert.match(lighttpd.stderr, /--accel: X-Accel-Redirect is nginx's/);
  });

  it('writes the lighttpd script beside the state dir, holding the link secret, and prints a configuration that names it', async () => {
    const stateDir = await tempDir('keepsake-nginx-config-');
    const env = { KEEPSAKE_STATE_DIR: stateDir, KEEPSAKE_MEDIA_ROOT: await tempDir('keepsake-media-'), KEEPSAKE_TRUST_PROXY: '127.0.0.1' };
    const printed = await runKeepsake(['nginx-config', '--server', 'lighttpd', '--listen', '127.0.0.1:18083'], env);
    assert.equal(printed.code, 0, printed.stderr);
    const script = path.join(await realpath(stateDir), 'lighttpd', LINK_SCRIPT_NAME);
    assert.ok(printed.stdout.includes(`magnet.attract-raw-url-to = ( "${script}" )`), 'the configuration names the script');
    assert.equal((await stat(script)).mode & 0o777, 0o640);
    const secret = (await readFile(path.join(stateDir, 'secrets', 'link-key'), 'utf8')).trim();
    assert.ok((await readFile(script, 'utf8')).includes(`local SECRET = "${secret}"`));
    assert.ok(!printed.stdout.includes(secret), 'the secret is in the script only, not in the printed text');
  });
});
