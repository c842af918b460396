#!/usr/bin/env node
import { runCli } from './cli/index.js';
import { ConfigError } from './config.js';
import { isKeepsakeError } from './errors.js';
import { createLogger } from './log.js';
import type { LoginStep } from './links/index.js';
import { startServer } from './server.js';
import type { ServiceOptions } from './services.js';
import { loadSettings } from './settings.js';

/**
 * Test-only fault injection: with KEEPSAKE_TEST_CRASH_AFTER_LOGIN_STEP set to a login step,
 * the process kills itself (SIGKILL, no clean-up) right after that step, to prove that a
 * crash at any point of a login leaves nothing behind.
 */
function crashHookForTests(step: string | undefined): ServiceOptions {
  if (step === undefined || step === '') return {};
  return {
    afterLoginStep: (reached: LoginStep) => {
      if (reached === step) process.kill(process.pid, 'SIGKILL');
    },
  };
}

/** `keepsake serve`: start, print where, and shut down gracefully on SIGTERM/SIGINT. */
async function serve(): Promise<number> {
  const settings = loadSettings();
  const log = createLogger(settings.logLevel);
  const server = await startServer(settings, log, crashHookForTests(process.env['KEEPSAKE_TEST_CRASH_AFTER_LOGIN_STEP']));
  process.stdout.write(`keepsake is running at ${server.url}\n`);
  if (server.firstPassword !== undefined) {
    process.stdout.write(
      `\nA key "family" that opens every album was created. Its password (shown only this once):\n\n    ${server.firstPassword}\n\n` +
        'Change it with: keepsake key remove family && keepsake key add family --prompt\n\n',
    );
  }
  const stop = (signal: NodeJS.Signals) => {
    log.info({ signal }, 'shutting down');
    // A second signal, or a shutdown that hangs, ends the process anyway.
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    process.once(signal, () => process.exit(1));
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return new Promise<number>(() => undefined);
}

async function main(argv: readonly string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv;
  try {
    return command === 'serve' ? await serve() : await runCli(command, rest);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(error.problems.map((line) => `keepsake: ${line}\n`).join(''));
      return 2;
    }
    // Errors written for whoever runs keepsake are shown as they are; anything else is a bug or the system's.
    if (isKeepsakeError(error) && error.expose) {
      process.stderr.write(`keepsake: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
