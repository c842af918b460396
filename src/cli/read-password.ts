import { UsageError } from './context.js';

/*
 * Passwords that never appear in the process list or the shell history: typed at a prompt that
 * does not echo them, or read from standard input (`printf '%s\n' "$P" | keepsake key add … --password-stdin`).
 */

const MAX_STDIN_BYTES = 64 * 1024;

/** The first line of standard input, without its line ending. */
export async function passwordFromStdin(input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin): Promise<string> {
  // From a terminal it would wait for Ctrl-D and echo the password as it is typed.
  if (input.isTTY === true) throw new UsageError('--password-stdin reads a password piped in; at a terminal, use --prompt');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += bytes.length;
    if (size > MAX_STDIN_BYTES) throw new UsageError('--password-stdin: expected one line holding the password, received more than 64 KiB');
    chunks.push(bytes);
  }
  const [line = ''] = Buffer.concat(chunks).toString('utf8').split(/\r?\n/);
  if (line === '') throw new UsageError('--password-stdin: expected the password on the first line of standard input, received nothing');
  return line;
}

/** One line typed at the terminal, not echoed. */
function askHidden(question: string): Promise<string> {
  const input = process.stdin;
  return new Promise((resolve, reject) => {
    process.stderr.write(question);
    let typed = '';
    input.setRawMode(true);
    input.resume();
    input.setEncoding('utf8');
    const done = (error?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.removeListener('data', onData);
      process.stderr.write('\n');
      if (error === undefined) resolve(typed);
      else reject(error);
    };
    const onData = (text: string) => {
      for (const character of text) {
        if (character === '\r' || character === '\n') return done();
        if (character === '\u0003') return done(new UsageError('cancelled'));
        if (character === '\u007f' || character === '\b') typed = typed.slice(0, -1);
        else typed += character;
      }
    };
    input.on('data', onData);
  });
}

/** Asks for a new password twice at the terminal; the two must match. */
export async function passwordFromPrompt(): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError('--prompt needs a terminal; in a script, pipe the password in with --password-stdin');
  const first = await askHidden('New password: ');
  const again = await askHidden('The same again: ');
  if (first !== again) throw new UsageError('the two passwords differ; nothing was changed');
  return first;
}
