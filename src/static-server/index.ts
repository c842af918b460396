/*
 * Static-server mode: configuration for a web server in front of keepsake (nginx and lighttpd
 * serve media from disk; Apache as far as it allows), generated from the same rules keepsake enforces,
 * and the outside checks `keepsake doctor --url` runs against such a setup.
 */
import { renderApacheConfig } from './apache.js';
import { renderLighttpdConfig } from './lighttpd.js';
import { renderNginxConfig, type NginxRenderOptions } from './nginx.js';

export { renderApacheConfig } from './apache.js';
export { renderLighttpdConfig } from './lighttpd.js';
export { LINK_SCRIPT_NAME, renderLinkScript, writeLinkScript, type ScriptedServer } from './link-scripts.js';
export { renderNginxConfig, type NginxRenderOptions } from './nginx.js';
export { mediaExtensions, parseHostPort, planStaticServer, type StaticServerOptions, type StaticServerPlan } from './rules.js';
export { checkSite, type SiteCheckOptions, type SiteFinding } from './site-checks.js';
export { writeRefusalPages } from './refusal-pages.js';

export const STATIC_SERVERS = ['nginx', 'lighttpd', 'apache'] as const;
export type StaticServer = (typeof STATIC_SERVERS)[number];

/** The configuration for one server; the options that server cannot use are refused by it. */
export function renderStaticServerConfig(server: StaticServer, options: NginxRenderOptions): string {
  switch (server) {
    case 'nginx':
      return renderNginxConfig(options);
    case 'lighttpd':
      return renderLighttpdConfig(options);
    case 'apache':
      return renderApacheConfig(options);
  }
}
