import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import ms from 'ms';
import cron from 'node-cron';
import { z } from 'zod';
import { UserError } from './errors.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  readonly mediaRoot: string;
  readonly stateDir: string;
  readonly webRoot: string;
  readonly host: string;
  readonly port: number;
  readonly sessionTtlMs: number;
  readonly rememberTtlMs: number;
  /** How long a device entered by its enrolment card stays in (renewed as it is used). */
  readonly deviceTtlMs: number;
  /** How long a session's exposure receipt is kept after it was last seen and ended. */
  readonly receiptsKeptMs: number;
  readonly sweepInterval: string;
  readonly publicUrl: string | undefined;
  readonly logLevel: LogLevel;
  readonly imageFormat: ImageFormat;
  readonly derivativeConcurrency: number;
  /** Right-click/drag deterrents in the UI. */
  readonly deterrents: boolean;
  /** `nginx`: media answers carry X-Accel-Redirect and nginx sends the bytes. */
  readonly accel: 'none' | 'nginx';
  /** `review`: albums that appear wait for \`keepsake publish\` before any key sees them. */
  readonly publish: 'open' | 'review';
  /** Bytes of derivatives kept in memory (0: none). */
  readonly memoryCacheBytes: number;
  /** postgres://… : keys, sessions, shares and the guard's counters live there, shared by several nodes. Unset: SQLite in the state dir. */
  readonly databaseUrl: string | undefined;
}

/**
 * A section of settings that a feature checks itself (the guard's policies, the derivative
 * presets): read from the config file (and an environment variable, when it has one, as JSON),
 * and checked with every other setting, so every problem is listed at start-up at once.
 */
export interface ConfigSection<T> {
  /** The environment variable that overrides the file's section. */
  readonly env?: string;
  /** How that variable is read: JSON (the default) or as plain text. */
  readonly envFormat?: 'json' | 'text';
  /** Checks the section; `core` holds the other settings, for checks that depend on them. */
  readonly parse: (raw: unknown, core: Config) => { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: readonly string[] };
}

export type ConfigSections = Readonly<Record<string, ConfigSection<unknown>>>;
export type SectionValues<S extends ConfigSections> = { readonly [K in keyof S]: S[K] extends ConfigSection<infer T> ? T : never };

export const IMAGE_FORMATS = ['webp', 'avif', 'jpeg'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export class ConfigError extends UserError {
  constructor(readonly problems: readonly string[]) {
    super('CONFIG_INVALID', problems.join('\n'));
  }
}

interface Setting<T> {
  readonly key: keyof Config;
  readonly env: string;
  readonly fallback: unknown;
  readonly allowed: string;
  readonly parse: z.ZodType<T>;
  /** Its value may hold a password: an error names the setting, never the value. */
  readonly sensitive?: boolean;
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

const UNITS: Readonly<Record<string, number>> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };
/** A size such as 64MB, 256MiB, 1g or a number of bytes (K, M, G count 1024s: memory is counted so). */
const byteSize = z.union([z.number().int().min(0), z.string()]).transform((value, context) => {
  if (typeof value === 'number') return value;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*$/i.exec(value);
  if (match === null) {
    context.addIssue({ code: 'custom', message: 'bad size' });
    return z.NEVER;
  }
  return Math.round(Number(match[1]) * UNITS[match[2]!.toLowerCase()]!);
});

const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])]).transform(
  (value) => value === true || value === 'true' || value === '1' || value === 'yes' || value === 'on',
);

const positiveInteger = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).pipe(z.number().int().min(1).max(64));

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
  { key: 'deviceTtlMs', env: 'KEEPSAKE_DEVICE_TTL', fallback: '365d', allowed: 'a duration of at least 1s, such as 90d or 365d', parse: duration },
  { key: 'receiptsKeptMs', env: 'KEEPSAKE_RECEIPTS_KEPT', fallback: '90d', allowed: 'a duration of at least 1s, such as 30d or 365d', parse: duration },
  {
    key: 'sweepInterval', env: 'KEEPSAKE_SWEEP_INTERVAL', fallback: '* * * * *',
    allowed: 'a cron expression of 5 fields, or 6 with seconds first (e.g. "* * * * *" or "*/10 * * * * *")',
    parse: z.string().refine((value) => cron.validate(value)),
  },
  {
    key: 'publicUrl', env: 'KEEPSAKE_PUBLIC_URL', fallback: undefined, allowed: 'an absolute http(s) URL such as https://photos.example.org',
    parse: z.url({ protocol: /^https?$/ }).transform((value) => new URL(value).origin).optional(),
  },
  { key: 'logLevel', env: 'KEEPSAKE_LOG_LEVEL', fallback: 'info', allowed: LOG_LEVELS.join(', '), parse: z.enum(LOG_LEVELS) },
  { key: 'imageFormat', env: 'KEEPSAKE_IMAGE_FORMAT', fallback: 'webp', allowed: IMAGE_FORMATS.join(', '), parse: z.enum(IMAGE_FORMATS) },
  {
    key: 'derivativeConcurrency', env: 'KEEPSAKE_DERIVATIVE_CONCURRENCY', fallback: availableParallelism(),
    allowed: 'an integer from 1 to 64 (images made at once)', parse: positiveInteger,
  },
  { key: 'deterrents', env: 'KEEPSAKE_DETERRENTS', fallback: true, allowed: 'true or false', parse: flag },
  { key: 'accel', env: 'KEEPSAKE_ACCEL', fallback: 'none', allowed: 'none or nginx', parse: z.enum(['none', 'nginx']) },
  { key: 'publish', env: 'KEEPSAKE_PUBLISH', fallback: 'open', allowed: 'open or review', parse: z.enum(['open', 'review']) },
  {
    key: 'memoryCacheBytes', env: 'KEEPSAKE_MEMORY_CACHE', fallback: '64MB',
    allowed: 'a size such as 64MB, 256MB or 1GB (0 keeps no derivatives in memory)', parse: byteSize,
  },
  {
    key: 'databaseUrl', env: 'KEEPSAKE_DATABASE_URL', fallback: undefined,
    allowed: 'a PostgreSQL URL such as postgres://keepsake:secret@db.internal:5432/keepsake (unset: SQLite in the state dir)',
    parse: z.string().regex(/^postgres(ql)?:\/\/[^\s]+$/).optional(),
    sensitive: true,
  },
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

function sectionValue(name: string, section: ConfigSection<unknown>, env: NodeJS.ProcessEnv, file: FileSettings): { raw: unknown; source: string; problem?: string } {
  const fromEnv = section.env === undefined ? undefined : env[section.env];
  if (fromEnv === undefined) return { raw: file[name], source: `"${name}" in the config file` };
  if (section.envFormat === 'text') return { raw: fromEnv, source: section.env! };
  try {
    return { raw: JSON.parse(fromEnv) as unknown, source: section.env! };
  } catch {
    return { raw: undefined, source: section.env!, problem: `Invalid setting ${section.env}=${describe(fromEnv)}: expected JSON` };
  }
}

/**
 * Reads settings once: environment over `keepsake.config.json` (or KEEPSAKE_CONFIG) over
 * defaults, and the sections that features check themselves. Every bad value is reported, one
 * line each, naming the setting, the value and what is allowed. Returns a frozen, fully-typed
 * Config with absolute paths, and each section's value under its name.
 */
export function loadConfig<S extends ConfigSections = Record<never, never>>(
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
  sections: S = {} as S,
): Config & SectionValues<S> {
  const explicitFile = env['KEEPSAKE_CONFIG'];
  const file = readConfigFile(path.resolve(cwd, explicitFile ?? 'keepsake.config.json'), explicitFile !== undefined);
  const known = new Set<string>([...SETTINGS.map((setting) => setting.key), ...Object.keys(sections)]);
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
      problems.push(`Invalid setting ${source}=${setting.sensitive === true ? '(not shown)' : describe(raw)}: expected ${setting.allowed}`);
    }
  }
  // With a bad folder setting the sections are still checked (every problem is listed), against a stand-in.
  const stateDir = path.resolve(cwd, (values['stateDir'] as string | undefined) ?? 'data');
  const core = Object.freeze({
    ...(values as unknown as Config),
    mediaRoot: path.resolve(cwd, (values['mediaRoot'] as string | undefined) ?? 'media-root'),
    stateDir,
    webRoot: path.resolve(cwd, (values['webRoot'] as string | undefined) ?? path.join(stateDir, 'webroot')),
  });
  const sectionValues: Record<string, unknown> = {};
  for (const [name, section] of Object.entries(sections)) {
    const { raw, source, problem } = sectionValue(name, section, env, file);
    const result = problem === undefined ? section.parse(raw, core) : ({ ok: false, problems: [] } as const);
    if (problem !== undefined) problems.push(problem);
    else if (result.ok) sectionValues[name] = result.value;
    else problems.push(...result.problems.map((line) => `Invalid setting ${source}: ${line}`));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ ...core, ...sectionValues }) as Config & SectionValues<S>;
}

/** Where each kind of state lives inside the state dir. */
export function statePaths(config: Config) {
  return {
    database: path.join(config.stateDir, 'keepsake.db'),
    secrets: path.join(config.stateDir, 'secrets'),
    cache: path.join(config.stateDir, 'cache'),
    views: path.join(config.stateDir, 'views'),
    /** The refusal bodies as files, for servers that answer a refusal from a file (lighttpd, Apache). */
    refusals: path.join(config.stateDir, 'refusals'),
    webRoot: config.webRoot,
  } as const;
}
