/*
 * Small helpers for writing configuration text: nested blocks, comments and quoting. The
 * generators build arrays of lines so every block is indented the same way in every file.
 */

/** A line of configuration, or a nested list of lines that is indented one level. */
export type Lines = readonly (string | Lines)[];

/** Flattens nested lines, indenting each nesting level by four spaces. */
export function renderLines(lines: Lines, depth = 0): string[] {
  const out: string[] = [];
  for (const line of lines) {
    if (typeof line === 'string') out.push(line === '' ? '' : `${'    '.repeat(depth)}${line}`);
    else out.push(...renderLines(line, depth + 1));
  }
  return out;
}

/** `# …` lines; an empty entry becomes a bare `#` so a paragraph stays one comment. */
export function comment(...text: readonly string[]): string[] {
  return text.map((line) => (line === '' ? '#' : `# ${line}`));
}

function checkPrintable(text: string): void {
  if (/[\0-\x1f\x7f]/.test(text)) throw new TypeError(`configuration text: expected no control characters, received ${JSON.stringify(text)}`);
}

/**
 * A double-quoted string for nginx and Apache: both read `\\` as one backslash and `\"` as a
 * quote inside double quotes, so a regular expression survives intact.
 */
export function quote(text: string): string {
  checkPrintable(text);
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * For lighttpd and Apache's mod_rewrite, which keep every backslash as written inside double
 * quotes, so doubling them would change a regular expression. Neither has a reliable escape for
 * a quote inside quotes, so plain text with one is refused (see quoteRegex for patterns).
 */
export function quoteVerbatim(text: string): string {
  checkPrintable(text);
  if (text.includes('"')) throw new TypeError(`configuration text: expected no double quote, received ${JSON.stringify(text)}`);
  return `"${text}"`;
}

/** A regular expression for quoteVerbatim: a quote (escaped or not) becomes PCRE's `\x22`. */
export function quoteRegex(pattern: string): string {
  return quoteVerbatim(pattern.replace(/\\[\s\S]|"/g, (token) => (token === '"' || token === '\\"' ? '\\x22' : token)));
}

/** nginx `return` bodies: `\n` is nginx's own escape for a newline inside quotes. */
export function quoteWithNewlines(text: string): string {
  return `"${text.split('\n').map((part) => quote(part).slice(1, -1)).join('\\n')}"`;
}

/** The file: a header comment, the body, and one trailing newline. */
export function renderFile(header: readonly string[], body: Lines): string {
  return `${[...comment(...header), '', ...renderLines(body)].join('\n').replace(/\n{3,}/g, '\n\n')}\n`;
}
