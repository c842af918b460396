import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import ms from 'ms';
import cron from 'node-cron';
import { z } from 'zod';
import { isAddressOrRange, resolveGuardConfig, type GuardConfig } from './guard/index.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `none`: ignore X-Forwarded-*; `all`: trust any peer; `list`: trust only these peers. */
export type TrustProxy =
  | { readonly mode: 'none' }
  | { readonly mode: 'all' }
  | { readonly mode: 'list'; readonly addresses: readonly string[] };

export interface Config {
  readonly mediaRoot: string;
  readonly stateDir: string;
  readonly webRoot: string;
  readonly host: string;
  readonly port: number;
  readonly sessionTtlMs: number;
  readonly rememberTtlMs: number;
  readonly sweepInterval: string;
  readonly publicUrl: string | undefined;
  readonly trustProxy: TrustProxy;
  readonly logLevel: LogLevel;
  readonly imageFormat: ImageFormat;
  readonly derivativeConcurrency: number;
  /** Derivative preset overrides from the config file, checked by the derivatives module. */
  readonly presets: Readonly<Record<string, unknown>>;
  /** Right-click/drag deterrents in the UI. */
  readonly deterrents: boolean;
  /** `nginx`: media answers carry X-Accel-Redirect and nginx sends the bytes. */
  readonly accel: 'none' | 'nginx';
  /** Hotlink, scraper, rate and login policies (the `guard` object of the config file). */
  readonly guard: GuardConfig;
}

export const IMAGE_FORMATS = ['webp', 'avif', 'jpeg'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

interface Setting<T> {
  readonly key: keyof Config;
  readonly env: string;
  readonly fallback: unknown;
  readonly allowed: string;
  readonly parse: z.ZodType<T>;
}

const duration = z.union([z.number().int().positive(), z.string()]).transform((value, context) => {
  const parsed = typeof value === 'number' ? value : ms(value as ms.StringValue);
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 1000) {
    context.addIssue({ code: 'custom', message: 'bad duration' });
    return z.NEVER;
  }
  return parsed;
});

const directory = z.string().min(1);

const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])]).transform(
  (value) => value === true || value === 'true' || value === '1' || value === 'yes' || value === 'on',
);

const jsonObject = z.preprocess((value) => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}, z.record(z.string(), z.unknown()));

const positiveInteger = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).pipe(z.number().int().min(1).max(64));

const trustProxy = z.union([z.boolean(), z.string()]).transform((value, context): TrustProxy => {
  const text = String(value).trim().toLowerCase();
  if (text === 'false' || text === '' || text === '0') return { mode: 'none' };
  if (text === 'true' || text === '1') return { mode: 'all' };
  const addresses = text.split(',').map((part) => part.trim()).filter(Boolean);
  if (!addresses.every((entry) => isAddressOrRange(entry))) {
    context.addIssue({ code: 'custom', message: 'bad proxy list' });
    return z.NEVER;
  }
  return { mode: 'list', addresses };
});

const SETTINGS: readonly Setting<unknown>[] = [
  { key: 'mediaRoot', env: 'KEEPSAKE_MEDIA_ROOT', fallback: 'media-root', allowed: 'a folder path', parse: directory },
  { key: 'stateDir', env: 'KEEPSAKE_STATE_DIR', fallback: 'data', allowed: 'a folder path', parse: directory },
  { key: 'webRoot', env: 'KEEPSAKE_WEB_ROOT', fallback: undefined, allowed: 'a folder path (default: <state dir>/webroot)', parse: directory.optional() },
  { key: 'host', env: 'KEEPSAKE_HOST', fallback: '127.0.0.1', allowed: 'an address to listen on, such as 127.0.0.1 or 0.0.0.0', parse: z.string().min(1) },
  {
    key: 'port', env: 'KEEPSAKE_PORT', fallback: 8080, allowed: 'an integer from 0 to 65535',
    parse: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).pipe(z.number().int().min(0).max(65535)),
  },
  { key: 'sessionTtlMs', env: 'KEEPSAKE_SESSION_TTL', fallback: '12h', allowed: 'a duration of at least 1s, such as 30m, 12h or 7d', parse: duration },
  { key: 'rememberTtlMs', env: 'KEEPSAKE_REMEMBER_TTL', fallback: '30d', allowed: 'a duration of at least 1s, such as 7d or 30d', parse: duration },
  {
    key: 'sweepInterval', env: 'KEEPSAKE_SWEEP_INTERVAL', fallback: '* * * * *',
    allowed: 'a cron expression of 5 fields, or 6 with seconds first (e.g. "* * * * *" or "*/10 * * * * *")',
    parse: z.string().refine((value) => cron.validate(value)),
  },
  {
    key: 'publicUrl', env: 'KEEPSAKE_PUBLIC_URL', fallback: undefined, allowed: 'an absolute http(s) URL such as https://photos.example.org',
    parse: z.url({ protocol: /^https?$/ }).transform((value) => new URL(value).origin).optional(),
  },
  { key: 'trustProxy', env: 'KEEPSAKE_TRUST_PROXY', fallback: false, allowed: 'true, false, or a comma-separated list of proxy addresses (IP or CIDR)', parse: trustProxy },
  { key: 'logLevel', env: 'KEEPSAKE_LOG_LEVEL', fallback: 'info', allowed: LOG_LEVELS.join(', '), parse: z.enum(LOG_LEVELS) },
  { key: 'imageFormat', env: 'KEEPSAKE_IMAGE_FORMAT', fallback: 'webp', allowed: IMAGE_FORMATS.join(', '), parse: z.enum(IMAGE_FORMATS) },
  {
    key: 'derivativeConcurrency', env: 'KEEPSAKE_DERIVATIVE_CONCURRENCY', fallback: availableParallelism(),
    allowed: 'an integer from 1 to 64 (images made at once)', parse: positiveInteger,
  },
  { key: 'presets', env: 'KEEPSAKE_PRESETS', fallback: {}, allowed: 'an object of preset overrides, e.g. {"small": {"size": 800}}', parse: jsonObject },
  { key: 'deterrents', env: 'KEEPSAKE_DETERRENTS', fallback: true, allowed: 'true or false', parse: flag },
  { key: 'accel', env: 'KEEPSAKE_ACCEL', fallback: 'none', allowed: 'none or nginx', parse: z.enum(['none', 'nginx']) },
];

type FileSettings = Record<string, unknown>;

function readConfigFile(file: string, explicit: boolean): FileSettings {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (!explicit && (error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError([`Cannot read config file ${file}: ${(error as Error).message}`]);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as FileSettings;
  } catch (error) {
    throw new ConfigError([`Config file ${file} is not valid: ${(error as Error).message}`]);
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/**
 * Reads settings once: environment over `keepsake.config.json` (or KEEPSAKE_CONFIG) over
 * defaults. Every bad value is reported, one line each, naming the setting, the value
 * and what is allowed. Returns a frozen, fully-typed Config with absolute paths.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Config {
  const explicitFile = env['KEEPSAKE_CONFIG'];
  const file = readConfigFile(path.resolve(cwd, explicitFile ?? 'keepsake.config.json'), explicitFile !== undefined);
  const known = new Set<string>([...SETTINGS.map((setting) => setting.key), 'guard']);
  const problems: string[] = Object.keys(file)
    .filter((name) => !known.has(name))
    .map((name) => `Unknown setting "${name}" in the config file; known settings: ${[...known].join(', ')}`);
  const values: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const fromEnv = env[setting.env];
    const raw = fromEnv !== undefined ? fromEnv : setting.key in file ? file[setting.key] : setting.fallback;
    const result = setting.parse.safeParse(raw);
    if (result.success) values[setting.key] = result.data;
    else {
      const source = fromEnv !== undefined ? setting.env : `"${setting.key}" in the config file`;
      problems.push(`Invalid setting ${source}=${describe(raw)}: expected ${setting.allowed}`);
    }
  }
  const guard = resolveGuardConfig(file['guard'] ?? {});
  if (guard.ok) values['guard'] = guard.config;
  else problems.push(...guard.problems.map((problem) => `Invalid setting in the config file: ${problem}`));
  if (problems.length > 0) throw new ConfigError(problems);
  const stateDir = path.resolve(cwd, values['stateDir'] as string);
  return Object.freeze({
    ...(values as unknown as Config),
    mediaRoot: path.resolve(cwd, values['mediaRoot'] as string),
    stateDir,
    webRoot: path.resolve(cwd, (values['webRoot'] as string | undefined) ?? path.join(stateDir, 'webroot')),
  });
}

/** Where each kind of state lives inside the state dir. */
export function statePaths(config: Config) {
  return {
    database: path.join(config.stateDir, 'keepsake.db'),
    secrets: path.join(config.stateDir, 'secrets'),
    cache: path.join(config.stateDir, 'cache'),
    views: path.join(config.stateDir, 'views'),
    webRoot: config.webRoot,
  } as const;
}
