import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { readVerified } from '../../src/paths.js';

export async function tempDir(prefix = 'keepsake-test-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

/** A small JPEG of one colour; `width`×`height` before any EXIF orientation. */
export async function makeJpeg(file: string, options: { width?: number; height?: number; colour?: string } = {}): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const { width = 64, height = 48, colour = '#3366cc' } = options;
  await sharp({ create: { width, height, channels: 3, background: colour } }).jpeg({ quality: 80 }).toFile(file);
}

/**
 * The media root most tests use: nested albums, two top-level families of albums with
 * different grants, and everything that must never be served (hidden, non-media, links out).
 */
export async function makeMediaRoot(root: string): Promise<void> {
  await makeJpeg(path.join(root, 'Summer 2024', 'beach.jpg'), { colour: '#d0a040' });
  await makeJpeg(path.join(root, 'Summer 2024', 'sunset glow.jpg'), { colour: '#e06030' });
  await makeJpeg(path.join(root, 'Summer 2024', 'Day Two', 'pier.jpg'), { colour: '#4080c0' });
  await makeJpeg(path.join(root, 'Kids', 'Alice', 'alice-1.jpg'), { colour: '#c040a0' });
  await makeJpeg(path.join(root, 'Kids', 'Bob', 'bob-1.jpg'), { colour: '#40c0a0' });
  await makeJpeg(path.join(root, 'Kids', 'loose-in-kids.jpg'));
  await makeJpeg(path.join(root, '.hidden', 'secret.jpg'));
  await makeJpeg(path.join(root, 'Summer 2024', '.dotfile.jpg'));
  await writeFile(path.join(root, 'Summer 2024', 'notes.txt'), 'not media\n');
  await symlink('/etc', path.join(root, 'Summer 2024', 'etc'));
  await symlink('/etc/passwd', path.join(root, 'Summer 2024', 'passwd.jpg'));
}

/** An original on disk as the derivatives module wants it, read the way keepsake reads one (checked on the open file). */
export function fileSource(absolutePath: string, identity: { albumPath: string; name: string; size: number; mtimeMs: number }) {
  const folder = path.dirname(absolutePath);
  return { ...identity, absolutePath, read: () => readVerified(folder, [path.basename(absolutePath)], folder) };
}

/** Polls `condition` every 100 ms until it holds; fails the test after `timeoutMs`, naming `what`. */
export async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}
