/**
 * `npm run bench:scan [-- --files N] [--folders N]`: the first scan and an unchanged rescan
 * of 50,000 small JPEGs in 2,000 folders (40 × 50, 25 photos each; every file a hard link to
 * one of 25 distinct 16×16 JPEGs) through keepsake's catalogue (`createLibrary().scan()`),
 * against `find <root> -printf '%s %T@\n'` over the same tree; the first scan (every photo in
 * the catalogue from its header; the decode checks follow) also against sharp's metadata() alone. find runs once to warm the
 * caches (they cannot be dropped here), then both are measured warm; rescan and find are
 * each the median of three runs.
 */
import { createWriteStream } from 'node:fs';
import { link, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { createLibrary, type ScanReport } from '../src/library/index.js';
import { createLogger } from '../src/log.js';
import { openDatabase } from '../src/store/index.js';
import { forEachLimited, median, option, positiveNumber, report, runCommand, tempFolder, type Row } from './common.js';

const DISTINCT = 25;
const RUNS = 3;

export interface ScanResult {
  readonly files: number;
  readonly folders: number;
  readonly firstScanMs: number;
  /** Until the decode check of every photo was done too. */
  readonly checkedMs: number;
  readonly rescanMs: readonly number[];
  readonly findMs: readonly number[];
  /** Plain sharp metadata() over a sample, as many at once as the catalogue reads (4). */
  readonly metadataFilesPerSecond: number;
  readonly first: ScanReport;
  readonly rescan: ScanReport;
}

/** The tree: `folders` albums two levels deep, `files` photos spread evenly. */
export async function makeTree(root: string, files: number, folders: number): Promise<void> {
  const sources = path.join(root, '..', 'sources');
  await mkdir(sources, { recursive: true });
  const originals: string[] = [];
  for (let index = 0; index < DISTINCT; index += 1) {
    const file = path.join(sources, `source-${index}.jpg`);
    const background = { r: (index * 37) % 256, g: (index * 91) % 256, b: (index * 53) % 256 };
    await sharp({ create: { width: 16, height: 16, channels: 3, background } }).jpeg({ quality: 80 }).toFile(file);
    originals.push(file);
  }
  const top = Math.ceil(Math.sqrt(folders));
  const perFolder = Math.ceil(files / folders);
  let made = 0;
  for (let folder = 0; folder < folders; folder += 1) {
    const dir = path.join(root, `year-${String(Math.floor(folder / top)).padStart(2, '0')}`, `event-${String(folder % top).padStart(2, '0')}`);
    await mkdir(dir, { recursive: true });
    const links: Promise<void>[] = [];
    for (let index = 0; index < perFolder && made < files; index += 1, made += 1) {
      links.push(link(originals[made % DISTINCT] as string, path.join(dir, `IMG_${String(index).padStart(4, '0')}.jpg`)));
    }
    await Promise.all(links);
  }
}

async function timeFind(root: string): Promise<number> {
  const result = await runCommand('sh', ['-c', 'find "$1" -printf \'%s %T@\\n\' > /dev/null', 'find', root], { timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`find failed: ${result.stderr}`);
  return result.ms;
}

/** The floor of a first scan: reading each new file's header with sharp, nothing else. */
async function timeMetadata(root: string, sample: number): Promise<number> {
  const files = (await readdir(root, { recursive: true })).filter((name) => name.endsWith('.jpg')).slice(0, sample);
  const started = performance.now();
  await forEachLimited(files, 4, async (name) => {
    await sharp(path.join(root, name)).metadata();
  });
  return files.length / ((performance.now() - started) / 1000);
}

export async function measureScan(files: number, folders: number): Promise<ScanResult> {
  const folder = await tempFolder('scan');
  const root = path.join(folder.dir, 'media');
  await makeTree(root, files, folders);
  const db = openDatabase(path.join(folder.dir, 'keepsake.db'));
  const log = createLogger('info', createWriteStream('/dev/null'));
  const library = createLibrary({ db, mediaRoot: root, log: log.child({ module: 'library' }) });
  try {
    await timeFind(root);
    const findMs: number[] = [await timeFind(root)];
    let started = performance.now();
    const first = await library.scan();
    const firstScanMs = performance.now() - started;
    await library.idle();
    const checkedMs = performance.now() - started;
    const metadataFilesPerSecond = await timeMetadata(root, Math.min(files, 5000));
    const rescanMs: number[] = [];
    let rescan = first;
    for (let run = 0; run < RUNS; run += 1) {
      started = performance.now();
      rescan = await library.scan();
      rescanMs.push(performance.now() - started);
      if (run > 0) findMs.push(await timeFind(root));
    }
    if (first.items !== files || rescan.items !== files || rescan.added + rescan.updated + rescan.removed !== 0) {
      throw new Error(`scan found ${first.items} then ${rescan.items} items of ${files}, rescan changed ${rescan.added}/${rescan.updated}/${rescan.removed}`);
    }
    return { files, folders, firstScanMs, checkedMs, rescanMs, findMs, metadataFilesPerSecond, first, rescan };
  } finally {
    await library.close();
    db.close();
    await folder.remove();
  }
}

export function scanRows(result: ScanResult): Row[] {
  const find = median(result.findMs);
  const rescan = median(result.rescanMs);
  const perSecond = (ms: number | undefined) => (ms === undefined ? undefined : result.files / (ms / 1000));
  const reference = "find -printf '%s %T@'";
  return [
    { measure: `first scan of ${result.files} files`, ours: result.firstScanMs, reference: find, referenceName: reference, unit: 'ms' },
    { measure: 'first scan, files/s', ours: perSecond(result.firstScanMs), reference: perSecond(find), referenceName: reference, unit: 'files/s' },
    { measure: 'first scan, catalogue from headers, files/s', ours: perSecond(result.firstScanMs), reference: result.metadataFilesPerSecond, referenceName: 'sharp metadata() alone, 4 at once', unit: 'files/s', goal: '≥ 0.8' },
    { measure: '… with every decode check done, files/s', ours: perSecond(result.checkedMs), reference: result.metadataFilesPerSecond, referenceName: 'sharp metadata() alone, 4 at once', unit: 'files/s' },
    { measure: 'unchanged rescan', ours: rescan, reference: find, referenceName: reference, unit: 'ms', goal: '≤ 3' },
    { measure: 'unchanged rescan, files/s', ours: perSecond(rescan), reference: perSecond(find), referenceName: reference, unit: 'files/s' },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = Math.floor(option('files', 50_000, positiveNumber('files')));
  const folders = Math.floor(option('folders', 2_000, positiveNumber('folders')));
  const result = await measureScan(files, folders);
  const rows = scanRows(result);
  await report('scan', `Catalogue: ${files} files in ${folders} folders (warm caches; rescan and find: median of ${RUNS})`, rows, result);
}
