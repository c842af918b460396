import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from './helpers/cli.js';

const SRC = path.join(REPO_ROOT, 'src');
const KOA_PACKAGES = new Set(['koa', '@koa/router', '@koa/bodyparser', 'koa-session', 'helmet']);
/** Top-level modules every folder may use. */
const SHARED = new Set(['config.ts', 'log.ts', 'paths.ts']);
/** Feature folders; each may use another only through its index.ts. */
const FEATURES = new Set(['store', 'auth', 'links', 'library', 'derivatives', 'guard', 'ui', 'static-server']);

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

/** Returns the broken rules for one import, as readable sentences. */
function violations(file: string, specifier: string): string[] {
  const from = path.relative(SRC, file).split(path.sep);
  const fromFolder = from.length > 1 ? from[0]! : undefined;
  const problems: string[] = [];
  if (KOA_PACKAGES.has(specifier) && fromFolder !== 'http') problems.push(`imports ${specifier}; only src/http may`);
  if (!specifier.startsWith('.')) return problems;
  const target = path.relative(SRC, path.resolve(path.dirname(file), specifier)).split(path.sep);
  const toFolder = target.length > 1 ? target[0]! : undefined;
  if (toFolder === undefined || toFolder === fromFolder) {
    const topLevel = target[0]!.replace(/\.js$/, '.ts');
    const allowed = SHARED.has(topLevel) || (fromFolder === 'cli' && topLevel === 'services.ts');
    if (toFolder === undefined && fromFolder !== undefined && !allowed) {
      problems.push(`imports src/${target.join('/')}; a folder may only use config, log and paths from the top level`);
    }
    return problems;
  }
  if (FEATURES.has(fromFolder ?? '') && !FEATURES.has(toFolder)) problems.push(`imports ${toFolder}/; feature folders must not depend on ${toFolder}`);
  const isPublicFace = target.length === 2 && target[1] === 'index.js';
  // media-types is a pure table the http layer shares with the catalogue.
  const isSharedTable = target.join('/') === 'library/media-types.js';
  if (!isPublicFace && !isSharedTable) problems.push(`imports ${target.join('/')}: another folder's internals (use ${toFolder}/index.js)`);
  return problems;
}

describe('the module map of STYLE.md', () => {
  it('holds: only http imports Koa, folders meet only through index.ts, features never import http, cli or main', async () => {
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
    assert.equal(violations(path.join(SRC, 'http', 'x.ts'), '../library/index.js').length, 0);
  });
});
