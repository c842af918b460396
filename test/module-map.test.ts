import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from './helpers/cli.js';

const SRC = path.join(REPO_ROOT, 'src');
const KOA_PACKAGES = new Set(['koa', '@koa/router', '@koa/bodyparser', 'koa-session', 'helmet']);
/**
 * Top-level modules every folder may use, and what each of them may use in turn: the media
 * contract and the error base are leaves; the rest lean only on each other.
 */
const SHARED: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['media-contract.ts', new Set<string>()],
  ['errors.ts', new Set<string>()],
  ['system-tools.ts', new Set(['errors.ts'])],
  ['heic.ts', new Set(['errors.ts', 'system-tools.ts'])],
  ['playable-copy.ts', new Set<string>()],
  ['ffmpeg.ts', new Set(['errors.ts', 'media-contract.ts', 'playable-copy.ts', 'system-tools.ts'])],
  ['raw-previews.ts', new Set(['errors.ts'])],
  ['motion-photos.ts', new Set<string>()],
  ['decoders.ts', new Set(['heic.ts', 'media-contract.ts', 'raw-previews.ts'])],
  ['time-slicer.ts', new Set<string>()],
  ['bounded-memo.ts', new Set<string>()],
  ['replace-file.ts', new Set<string>()],
  ['config.ts', new Set(['errors.ts'])],
  ['log.ts', new Set(['config.ts'])],
  ['paths.ts', new Set(['errors.ts', 'media-contract.ts'])],
]);
/** Top-level wiring that the command line may use besides the shared modules. */
const WIRING_FOR_CLI = new Set(['services.ts', 'settings.ts']);
/** Feature folders; each may use another only through its index.ts. */
const FEATURES = new Set(['store', 'auth', 'access', 'links', 'library', 'derivatives', 'guard', 'ui', 'static-server', 'receipts', 'cluster']);

async function sourceFiles(directory: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) files.push(path.join(entry.parentPath, entry.name));
  }
  return files;
}

function importsOf(source: string): string[] {
  return [...source.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]/gm)].map((match) => match[1]!);
}

/** The rules for an import from a top-level module (the shared ones may lean only on each other). */
function topLevelViolations(fromFile: string, target: readonly string[], toFolder: string | undefined): string[] {
  const rule = SHARED.get(fromFile);
  if (rule === undefined) return [];
  const topLevel = target[0]!.replace(/\.js$/, '.ts');
  if (toFolder !== undefined || !rule.has(topLevel)) return [`imports src/${target.join('/')}; ${fromFile} is shared and may use only ${[...rule].join(', ') || 'nothing of the project'}`];
  return [];
}

/** Returns the broken rules for one import, as readable sentences. */
function violations(file: string, specifier: string): string[] {
  const from = path.relative(SRC, file).split(path.sep);
  const fromFolder = from.length > 1 ? from[0]! : undefined;
  const problems: string[] = [];
  if (KOA_PACKAGES.has(specifier) && fromFolder !== 'http') problems.push(`imports ${specifier}; only src/http may`);
  if (specifier === 'sharp' && from.join('/') !== 'decoders.ts') problems.push('imports sharp; only src/decoders.ts may (it enables only the listed decoders)');
  if (!specifier.startsWith('.')) return problems;
  const target = path.relative(SRC, path.resolve(path.dirname(file), specifier)).split(path.sep);
  const toFolder = target.length > 1 ? target[0]! : undefined;
  if (fromFolder === undefined) return [...problems, ...topLevelViolations(from[0]!, target, toFolder)];
  if (toFolder === undefined) {
    const topLevel = target[0]!.replace(/\.js$/, '.ts');
    const allowed = SHARED.has(topLevel) || (fromFolder === 'cli' && WIRING_FOR_CLI.has(topLevel));
    if (!allowed) problems.push(`imports src/${target.join('/')}; a folder may only use ${[...SHARED.keys()].join(', ')} from the top level`);
    return problems;
  }
  if (toFolder === fromFolder) return problems;
  if (FEATURES.has(fromFolder) && !FEATURES.has(toFolder)) problems.push(`imports ${toFolder}/; feature folders must not depend on ${toFolder}`);
  const isPublicFace = target.length === 2 && target[1] === 'index.js';
  if (!isPublicFace) problems.push(`imports ${target.join('/')}: another folder's internals (use ${toFolder}/index.js)`);
  return problems;
}

describe('the module map of STYLE.md', () => {
  it('holds: only http imports Koa, folders meet only through index.ts, features never import http, cli or main, shared modules stay leaves', async () => {
    const problems: string[] = [];
    for (const file of await sourceFiles(SRC)) {
      for (const specifier of importsOf(await readFile(file, 'utf8'))) {
        for (const problem of violations(file, specifier)) problems.push(`${path.relative(REPO_ROOT, file)} ${problem}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('catches a violation when one is planted (the check itself works)', () => {
    assert.ok(violations(path.join(SRC, 'links', 'x.ts'), 'koa').length > 0);
    assert.ok(violations(path.join(SRC, 'links', 'x.ts'), '../library/scanner.js').length > 0);
    assert.ok(violations(path.join(SRC, 'auth', 'x.ts'), '../http/index.js').length > 0);
    assert.ok(violations(path.join(SRC, 'media-contract.ts'), './config.js').length > 0, 'the contract is a leaf');
    assert.ok(violations(path.join(SRC, 'paths.ts'), './guard/index.js').length > 0, 'a shared module uses no feature');
    assert.ok(violations(path.join(SRC, 'config.ts'), './guard/index.js').length > 0, 'config does not import the guard');
    assert.ok(violations(path.join(SRC, 'library', 'x.ts'), 'sharp').length > 0, 'sharp comes from decoders.ts');
    assert.ok(violations(path.join(SRC, 'links', 'x.ts'), '../services.js').length > 0);
    assert.equal(violations(path.join(SRC, 'http', 'x.ts'), '../library/index.js').length, 0);
    assert.equal(violations(path.join(SRC, 'http', 'x.ts'), '../media-contract.js').length, 0);
  });
});
