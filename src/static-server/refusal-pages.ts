import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { REFUSAL_BODIES, type RefusalStatus } from '../media-contract.js';
import { replaceFile } from '../replace-file.js';
import type { StaticServerPlan } from './rules.js';

/*
 * The media contract's refusal bodies as files, for servers that can answer a refusal only from
 * a file (lighttpd's server.errorfile-prefix, Apache's ErrorDocument): keepsake writes them into
 * the state dir at every start, so they always say exactly what keepsake itself says.
 */

/** lighttpd's naming, `<prefix><status>.html`; Apache is pointed at the same files. */
export const REFUSAL_FILE_PREFIX = 'status-';

export function refusalFileName(status: RefusalStatus): string {
  return `${REFUSAL_FILE_PREFIX}${status}.html`;
}

/** Writes every refusal body into `dir`, each whole or not at all. */
export async function writeRefusalPages(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [status, body] of Object.entries(REFUSAL_BODIES)) {
    const file = path.join(dir, refusalFileName(Number(status) as RefusalStatus));
    await replaceFile(file, body, 0o644);
  }
}

/** The refusals folder a lighttpd or Apache configuration needs; its generator refuses to go without one. */
export function requireRefusalsDir(plan: StaticServerPlan, server: string): string {
  if (plan.refusalsDir === undefined) throw new TypeError(`refusalsDir: expected the folder keepsake writes its refusal bodies into (<stateDir>/refusals), for ${server}`);
  return plan.refusalsDir;
}
