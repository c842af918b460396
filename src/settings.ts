import { loadConfig } from './config.js';
import { presetsSection } from './derivatives/index.js';
import { guardConfigSection, trustProxySection } from './guard/index.js';
import { ignoredNamesSection } from './library/index.js';

/*
 * Every setting keepsake reads: the core ones of config.ts, and the sections the features check
 * themselves (the guard's policies, the derivative presets, the trusted proxies, the names the
 * catalogue ignores), all loaded and
 * checked at once so a bad start-up lists every problem together.
 */

export const SETTINGS_SECTIONS = {
  guard: guardConfigSection,
  presets: presetsSection,
  trustProxy: trustProxySection,
  ignoredNames: ignoredNamesSection,
} as const;

export type Settings = ReturnType<typeof loadSettings>;

export function loadSettings(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()) {
  return loadConfig(env, cwd, SETTINGS_SECTIONS);
}
