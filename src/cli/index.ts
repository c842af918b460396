import { deviceCommand } from './device.js';
import { doctorCommand } from './doctor.js';
import { publishCommand, reviewCommand } from './review.js';
import { keyCommand } from './key.js';
import { nginxConfigCommand } from './nginx-config.js';
import { sessionsCommand } from './sessions.js';
import { sweepCommand } from './sweep.js';
import { pregenerateCommand } from './pregenerate.js';
import { shareCommand } from './share.js';
import { statsCommand } from './stats.js';
import { isParseArgsError } from './arguments.js';
import { dropOutputWhenClosed, print, UsageError } from './context.js';

export { UsageError } from './context.js';

export const USAGE = `keepsake — a private photo gallery for families

Usage: keepsake <command> [options]

  serve                          run the gallery (what npm start runs)
  key add|list|remove            manage shared passwords
  sessions [show|revoke <token|label>] list live sessions, what they fetched, or end them
  device add|list|remove         named devices with a one-time enrolment card (QR code)
  review · publish <album>|--all with KEEPSAKE_PUBLISH=review: what waits, and releasing it
  sweep                          remove expired sessions and their links now
  pregenerate [album]            make every derivative ahead of time (resumable)
  share <album> --ttl 24h        print a signed, expiring link to one album; share list|revoke
  stats [--since 24h]            refused requests by policy
  doctor [--url URL]             check folders, permissions and links; with --url, a running site
  nginx-config [--server …]      print nginx (or lighttpd, Apache) configuration for keepsake

Settings come from KEEPSAKE_* environment variables or keepsake.config.json (see README).`;

const COMMANDS: Readonly<Record<string, (args: readonly string[]) => Promise<number>>> = {
  key: keyCommand,
  device: deviceCommand,
  review: reviewCommand,
  publish: publishCommand,
  sessions: sessionsCommand,
  sweep: sweepCommand,
  doctor: doctorCommand,
  'nginx-config': nginxConfigCommand,
  pregenerate: pregenerateCommand,
  share: shareCommand,
  stats: statsCommand,
};

/** Runs one command line command; returns the exit code. Usage errors print help and return 2. */
export async function runCli(command: string, args: readonly string[]): Promise<number> {
  dropOutputWhenClosed();
  if (command === 'help' || command === '--help' || command === '-h') {
    print(USAGE);
    return 0;
  }
  const run = COMMANDS[command];
  try {
    if (run === undefined) throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
    return await run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`keepsake: ${error.message}\n`);
      return 2;
    }
    // parseOptions explains parseArgs's refusals; one that reaches here still gets one line.
    if (isParseArgsError(error)) {
      process.stderr.write(`keepsake: ${error.message.split('\n', 1)[0]}\n`);
      return 2;
    }
    throw error;
  }
}
