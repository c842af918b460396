import assert from 'node:assert/strict';
import { mkdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import sharp from 'sharp';
import { checkImageDecodes, readImageFacts, type LibraryChange } from '../src/library/index.js';
import {
  bombPng,
  countingReader,
  jpegBytes,
  makeSandbox,
  openLibrary,
  waitFor,
  writeJpeg,
  type Sandbox,
} from './fixtures/library-fixtures.js';

const day = (iso: string): Date => new Date(`${iso}T12:00:00Z`);
const exifDate = (iso: string): string => `${iso.replaceAll('-', ':')} 12:00:00`;

describe('library catalogue: albums, summaries and listings', () => {
  let sandbox: Sandbox;
  let opened: ReturnType<typeof openLibrary>;

  before(async () => {
    sandbox = makeSandbox();
    const at = (relative: string) => path.join(sandbox.mediaRoot, relative);
    await writeJpeg(at('Summer/a1.jpg'), { dateTimeOriginal: exifDate('2020-01-01') });
    await writeJpeg(at('Summer/a2.jpg'), { dateTimeOriginal: exifDate('2019-06-01') });
    // Same date taken as a2: the name breaks the tie.
    await writeJpeg(at('Summer/a0.jpg'), { dateTimeOriginal: exifDate('2019-06-01') });
    await writeJpeg(at('Summer/Beach/b1.jpg'), {}, day('2021-05-05'));
    await writeJpeg(at('Kids/Party/p1.jpg'), {}, day('2018-01-01'));
    await writeJpeg(at('Kids/Party/p2.jpg'), {}, day('2018-02-01'));
    await writeJpeg(at('Kids/School/s1.jpg'), {}, day('2017-09-01'));
    mkdirSync(at('Empty'));
    await writeJpeg(at('loose.jpg'), {}, day('2016-01-01'));
    opened = openLibrary(sandbox);
    await opened.library.scan();
  });
  after(async () => {
    await opened.library.close();
    sandbox.remove();
  });

  test('every folder is an album, nested ones included, sorted; the root is not one', () => {
    assert.deepEqual(opened.library.albumPaths(), ['Empty', 'Kids', 'Kids/Party', 'Kids/School', 'Summer', 'Summer/Beach']);
    assert.equal(opened.library.item('', 'loose.jpg')?.albumPath, '');
  });

  test('a summary counts direct photos and sub-albums, and spans the dates below it', () => {
    const summer = opened.library.summary('Summer');
    assert.ok(summer);
    assert.equal(summer.title, 'Summer');
    assert.equal(summer.photoCount, 3);
    assert.equal(summer.albumCount, 1);
    assert.equal(summer.firstTakenAt, Date.parse('2019-06-01T12:00:00Z'));
    assert.equal(summer.lastTakenAt, day('2021-05-05').getTime());
    assert.equal(summer.cover?.name, 'a0.jpg', 'the first photo by date taken, then by name');
    assert.equal(opened.library.summary('Nope'), undefined);
  });

  test('an album without photos of its own takes its cover from its first sub-album, as listed', () => {
    const kids = opened.library.summary('Kids');
    assert.equal(kids?.photoCount, 0);
    assert.equal(kids?.albumCount, 2);
    // Party (newest, Feb 2018) is listed before School (2017): its first photo is the cover.
    assert.equal(kids?.cover?.name, 'p1.jpg');
    const empty = opened.library.summary('Empty');
    assert.deepEqual(
      [empty?.photoCount, empty?.cover, empty?.firstTakenAt, empty?.lastTakenAt],
      [0, undefined, undefined, undefined],
    );
  });

  test('a listing has sub-albums newest first and items by date taken, then name', () => {
    const listing = opened.library.listing('Summer');
    assert.ok(listing);
    assert.deepEqual(listing.items.map((item) => item.name), ['a0.jpg', 'a2.jpg', 'a1.jpg']);
    assert.deepEqual(listing.albums.map((album) => album.path), ['Summer/Beach']);
    assert.deepEqual(opened.library.listing('Kids')?.albums.map((album) => album.title), ['Party', 'School']);
    assert.equal(opened.library.listing('Nope'), undefined);
  });

  test('top albums are newest first, albums without photos last', () => {
    assert.deepEqual(opened.library.topAlbums().map((album) => album.path), ['Summer', 'Kids', 'Empty']);
    assert.deepEqual(opened.library.albumsUnder('Kids').map((album) => album.path), ['Kids/Party', 'Kids/School']);
  });

  test('the first scan announces every album and item it added', () => {
    const kinds = (kind: LibraryChange['kind']) => opened.changes.filter((change) => change.kind === kind).length;
    assert.equal(kinds('album-added'), 6);
    assert.equal(kinds('item-added'), 8);
    assert.equal(kinds('item-removed') + kinds('album-removed') + kinds('item-changed'), 0);
  });
});

describe('library catalogue: what is never catalogued', () => {
  let sandbox: Sandbox;
  let opened: ReturnType<typeof openLibrary>;
  let outside: string;

  before(async () => {
    sandbox = makeSandbox();
    const at = (relative: string) => path.join(sandbox.mediaRoot, relative);
    outside = path.join(sandbox.dir, 'outside');
    await writeJpeg(path.join(outside, 'secret.jpg'));
    await writeJpeg(at('Album/good.jpg'));
    await writeJpeg(at('Album/.hidden.jpg'));
    await writeJpeg(at('.private/p.jpg'));
    writeFileSync(at('Album/notes.txt'), 'not media');
    writeFileSync(at('Album/empty.jpg'), '');
    // Names no URL, log line or web-server rule carries whole: a line break, a tab.
    await writeJpeg(at('Album/new\nline.jpg'));
    await writeJpeg(at('Album/tab\there.jpg'));
    await writeJpeg(at('Line\nbreak/p.jpg'));
    // A backslash (no URL carries it as a name), and a name too long for its derivatives' names.
    await writeJpeg(at('Album/back\\slash.jpg'));
    await writeJpeg(at(`Album/${'a'.repeat(240)}.jpg`));
    await writeJpeg(at(`Album/${'b'.repeat(233)}.jpg`));
    symlinkSync('/etc', at('etc'));
    symlinkSync(path.join(outside, 'secret.jpg'), at('Album/leak.jpg'));
    symlinkSync(outside, at('Outside'));
    symlinkSync(at('.private/p.jpg'), at('Album/peek.jpg'));
    // A NAS recycle bin inside the album: what was deleted there is never a photo, nor through a link.
    await writeJpeg(at('Album/#recycle/deleted.jpg'));
    symlinkSync('#recycle/deleted.jpg', at('Album/undeleted.jpg'));
    symlinkSync('#recycle', at('Album/bin'));
    // Inside the root and harmless: followed.
    symlinkSync(at('Album/good.jpg'), at('Album/alias.jpg'));
    symlinkSync(at('Album'), at('Favourites'));
    // Loops: a link to the folder above, and to the root itself.
    symlinkSync('..', at('Album/up'));
    symlinkSync(sandbox.mediaRoot, at('Album/root'));
    opened = openLibrary(sandbox);
    await opened.library.scan();
  });
  after(async () => {
    await opened.library.close();
    sandbox.remove();
  });

  test('hidden, non-media, empty files and links leaving the root are not in the catalogue', () => {
    assert.deepEqual(opened.library.albumPaths(), ['Album', 'Favourites']);
    const names = opened.library.listing('Album')?.items.map((item) => item.name);
    assert.deepEqual(names?.sort(), ['alias.jpg', `${'b'.repeat(233)}.jpg`, 'good.jpg'], 'a name of 237 bytes is still a photo');
    assert.deepEqual(opened.library.listing('Favourites')?.items.map((item) => item.name).sort(), ['alias.jpg', `${'b'.repeat(233)}.jpg`, 'good.jpg']);
  });

  test('each skip is logged once, with its reason', () => {
    const reasonOf = (relative: string) => opened.logged.about(relative).map((line) => line.reason);
    assert.deepEqual(reasonOf('Album/.hidden.jpg'), ['hidden']);
    assert.deepEqual(reasonOf('.private'), ['hidden']);
    assert.deepEqual(reasonOf('Album/notes.txt'), ['not-media']);
    assert.deepEqual(reasonOf('Album/empty.jpg'), ['empty']);
    assert.deepEqual(reasonOf('Album/new\nline.jpg'), ['unservable-name']);
    assert.deepEqual(reasonOf('Album/tab\there.jpg'), ['unservable-name']);
    assert.deepEqual(reasonOf('Line\nbreak'), ['unservable-name']);
    assert.deepEqual(reasonOf('Album/back\\slash.jpg'), ['unservable-name']);
    assert.deepEqual(reasonOf(`Album/${'a'.repeat(240)}.jpg`), ['name-too-long']);
    assert.deepEqual(reasonOf('etc'), ['symlink-outside']);
    assert.deepEqual(reasonOf('Outside'), ['symlink-outside']);
    assert.deepEqual(reasonOf('Album/leak.jpg'), ['symlink-outside']);
    assert.deepEqual(reasonOf('Album/peek.jpg'), ['symlink-hidden']);
    assert.deepEqual(reasonOf('Album/#recycle'), ['ignored']);
    assert.deepEqual(reasonOf('Album/undeleted.jpg'), ['symlink-ignored']);
    assert.deepEqual(reasonOf('Album/bin'), ['symlink-ignored']);
    assert.deepEqual(reasonOf('Album/up'), ['symlink-loop']);
    assert.deepEqual(reasonOf('Album/root'), ['symlink-loop']);
    // The linked copy of Album has the same loops below it, named by its own path.
    assert.deepEqual(reasonOf('Favourites/up'), ['symlink-loop']);
    assert.equal(opened.logged.lines.filter((line) => String(line.path ?? '').includes('secret')).length, 0);
  });

  test('a second scan logs none of them again', async () => {
    const before = opened.logged.lines.length;
    const report = await opened.library.scan();
    const skipLines = opened.logged.lines.slice(before).filter((line) => line.reason !== undefined);
    assert.deepEqual(skipLines, []);
    assert.equal(report.added + report.updated + report.removed, 0);
  });
});

describe('library catalogue: reading images', () => {
  let sandbox: Sandbox;
  let opened: ReturnType<typeof openLibrary>;
  let counter: ReturnType<typeof countingReader>;
  const at = (relative: string) => path.join(sandbox.mediaRoot, relative);

  before(async () => {
    sandbox = makeSandbox();
    await writeJpeg(at('A/turned.jpg'), { width: 40, height: 20, orientation: 6 });
    await writeJpeg(at('A/upright.jpg'), { width: 40, height: 20, orientation: 1 });
    await writeJpeg(at('A/dated.jpg'), { dateTimeOriginal: '2019:07:04 12:34:56' });
    await writeJpeg(at('A/zoned.jpg'), { dateTimeOriginal: '2019:07:04 12:34:56', offsetTimeOriginal: '+02:00' });
    await writeJpeg(at('A/undated.jpg'), {}, new Date('2015-03-03T03:03:03Z'));
    await sharp({ create: { width: 30, height: 50, channels: 4, background: '#00ff0080' } }).png().toFile(at('A/clear.png'));
    await sharp({ create: { width: 24, height: 12, channels: 3, background: 'white' } }).webp().toFile(at('A/web.webp'));
    const whole = await jpegBytes({ width: 400, height: 300 });
    writeFileSync(at('A/truncated.jpg'), whole.subarray(0, Math.floor(whole.length / 2)));
    writeFileSync(at('A/text.jpg'), 'this is not a photo at all');
    writeFileSync(at('A/bomb.png'), bombPng());
    writeFileSync(at('A/fake.heic'), 'no HEVC here');
    writeFileSync(at('A/clip.mp4'), Buffer.alloc(2048, 7));
    utimesSync(at('A/clip.mp4'), new Date('2014-01-01T00:00:00Z'), new Date('2014-01-01T00:00:00Z'));
    counter = countingReader();
    opened = openLibrary(sandbox, { readImage: counter.reader });
    await opened.library.scan();
    // Decode checks follow the scan: a truncated photo leaves the catalogue once its check ran.
    await opened.library.idle();
  });
  after(async () => {
    await opened.library.close();
    sandbox.remove();
  });

  test('width and height are those after EXIF orientation', () => {
    const turned = opened.library.item('A', 'turned.jpg');
    assert.deepEqual([turned?.width, turned?.height], [20, 40]);
    const upright = opened.library.item('A', 'upright.jpg');
    assert.deepEqual([upright?.width, upright?.height], [40, 20]);
    assert.deepEqual([opened.library.item('A', 'clear.png')?.width, opened.library.item('A', 'clear.png')?.height], [30, 50]);
    assert.equal(opened.library.item('A', 'web.webp')?.width, 24);
  });

  test('date taken is EXIF DateTimeOriginal (with its offset when given), else the mtime', () => {
    assert.equal(opened.library.item('A', 'dated.jpg')?.takenAt, Date.UTC(2019, 6, 4, 12, 34, 56));
    assert.equal(opened.library.item('A', 'zoned.jpg')?.takenAt, Date.UTC(2019, 6, 4, 10, 34, 56));
    assert.equal(opened.library.item('A', 'undated.jpg')?.takenAt, Date.parse('2015-03-03T03:03:03Z'));
  });

  test('videos are catalogued unprobed: no pixel size, dated by mtime', () => {
    const clip = opened.library.item('A', 'clip.mp4');
    assert.deepEqual(
      [clip?.type, clip?.width, clip?.height, clip?.takenAt, clip?.size],
      ['video', 0, 0, Date.parse('2014-01-01T00:00:00Z'), 2048],
    );
    assert.ok(!counter.reads.some((file) => file.endsWith('clip.mp4')), 'videos are never decoded');
  });

  test('files sharp cannot decode are skipped with one warning each, and not read again', async () => {
    const broken = { 'A/truncated.jpg': 'unreadable-image', 'A/text.jpg': 'not-a-photo', 'A/bomb.png': 'too-many-pixels', 'A/fake.heic': 'not-a-photo' };
    for (const [relative, reason] of Object.entries(broken)) {
      assert.equal(opened.library.item('A', path.basename(relative)), undefined, relative);
      const lines = opened.logged.about(relative);
      assert.equal(lines.length, 1, `${relative}: ${JSON.stringify(lines)}`);
      assert.equal(lines[0]?.reason, reason, relative);
      assert.equal(lines[0]?.level, 40, 'logged as a warning');
    }
    const readsBefore = counter.reads.length;
    const linesBefore = opened.logged.lines.length;
    await opened.library.scan();
    await opened.library.idle();
    assert.equal(counter.reads.length, readsBefore, 'nothing unchanged is read again, broken files included');
    assert.deepEqual(opened.logged.lines.slice(linesBefore).filter((line) => line.reason !== undefined), []);
  });

  test('a broken file that is fixed is catalogued, and one that breaks is dropped', async () => {
    writeFileSync(at('A/text.jpg'), await jpegBytes({ width: 8, height: 6 }));
    writeFileSync(at('A/upright.jpg'), 'broken now');
    await opened.library.scan();
    await opened.library.idle();
    assert.equal(opened.library.item('A', 'text.jpg')?.width, 8);
    assert.equal(opened.library.item('A', 'upright.jpg'), undefined);
    assert.equal(opened.logged.about('A/upright.jpg').length, 1);
    assert.ok(opened.changes.some((change) => change.kind === 'item-removed' && change.item.name === 'upright.jpg'));
  });
});

describe('library catalogue: rescans', () => {
  let sandbox: Sandbox;
  let opened: ReturnType<typeof openLibrary>;
  let counter: ReturnType<typeof countingReader>;
  const at = (relative: string) => path.join(sandbox.mediaRoot, relative);

  before(async () => {
    sandbox = makeSandbox();
    for (let index = 0; index < 12; index += 1) await writeJpeg(at(`Trip/p${index}.jpg`), { width: 10 + index });
    await writeJpeg(at('Trip/Day 2/q.jpg'));
    await writeJpeg(at('Old/o.jpg'));
    counter = countingReader();
    opened = openLibrary(sandbox, { readImage: counter.reader });
  });
  after(async () => {
    await opened.library.close();
    sandbox.remove();
  });

  test('the first scan reads every image once', async () => {
    const report = await opened.library.scan();
    assert.equal(counter.reads.length, 14);
    assert.deepEqual([report.albums, report.items, report.added, report.updated, report.removed, report.complete], [3, 14, 14, 0, 0, true]);
  });

  test('an unchanged rescan reads nothing and changes nothing', async () => {
    const eventsBefore = opened.changes.length;
    const report = await opened.library.scan();
    assert.equal(counter.reads.length, 14);
    assert.deepEqual([report.items, report.added, report.updated, report.removed], [14, 0, 0, 0]);
    assert.equal(opened.changes.length, eventsBefore);
  });

  test('a rescan re-reads what changed size or mtime and removes what is gone', async () => {
    writeFileSync(at('Trip/p1.jpg'), await jpegBytes({ width: 99, height: 33 }));
    const later = new Date(statSync(at('Trip/p2.jpg')).mtimeMs + 5000);
    utimesSync(at('Trip/p2.jpg'), later, later);
    rmSync(at('Trip/p3.jpg'));
    rmSync(at('Old'), { recursive: true });
    const eventsBefore = opened.changes.length;
    const readsBefore = counter.reads.length;
    const report = await opened.library.scan();
    assert.deepEqual(counter.reads.slice(readsBefore).map((file) => path.basename(file)).sort(), ['p1.jpg', 'p2.jpg']);
    assert.deepEqual([report.items, report.added, report.updated, report.removed], [12, 0, 2, 2]);
    assert.equal(opened.library.item('Trip', 'p1.jpg')?.width, 99);
    assert.equal(opened.library.item('Trip', 'p3.jpg'), undefined);
    assert.deepEqual(opened.library.albumPaths(), ['Trip', 'Trip/Day 2']);
    const events = opened.changes.slice(eventsBefore);
    const changed = events.find((change) => change.kind === 'item-changed' && change.item.name === 'p1.jpg');
    assert.ok(changed?.kind === 'item-changed' && changed.previous.width === 11, 'item-changed carries the previous version');
    const removed = events.filter((change) => change.kind === 'item-removed').map((change) => 'item' in change && change.item.name);
    assert.deepEqual(removed.sort(), ['o.jpg', 'p3.jpg']);
    assert.ok(events.some((change) => change.kind === 'album-removed' && change.albumPath === 'Old'));
  });

  test('a listener that throws does not stop the catalogue', async () => {
    const unsubscribe = opened.library.onChange(() => {
      throw new Error('listener bug');
    });
    await writeJpeg(at('Trip/new.jpg'));
    await opened.library.scan();
    unsubscribe();
    assert.ok(opened.library.item('Trip', 'new.jpg'));
    assert.ok(opened.logged.lines.some((line) => line.msg === 'library change listener failed'));
  });

  test('concurrent scan() calls share one scan', async () => {
    const [first, second] = await Promise.all([opened.library.scan(), opened.library.scan()]);
    assert.equal(first, second);
  });
});

describe('library catalogue: a long scan', () => {
  let sandbox: Sandbox;
  const at = (relative: string) => path.join(sandbox.mediaRoot, relative);

  before(async () => {
    sandbox = makeSandbox();
    for (let index = 0; index < 10; index += 1) await writeJpeg(at(`Slow/s${index}.jpg`));
  });
  after(() => sandbox.remove());

  test('logs progress every 2 s while it runs, and a summary at the end', async () => {
    const slowReader = async (file: string) => {
      await delay(250);
      return readImageFacts(file);
    };
    const opened = openLibrary(sandbox, { readImage: slowReader, readConcurrency: 1 });
    const report = await opened.library.scan();
    await opened.library.close();
    const progress = opened.logged.lines.filter((line) => line.msg === 'library scan in progress');
    assert.ok(progress.length >= 1, 'at least one progress line in a 2.5 s scan');
    assert.equal(progress[0]?.phase, 'reading');
    const finished = opened.logged.lines.filter((line) => line.msg === 'library scan finished');
    assert.equal(finished.length, 1);
    assert.deepEqual([finished[0]?.added, report.added, report.complete], [10, 10, true]);
  });

  test('close() stops a scan midway without removing anything', async () => {
    rmSync(at('Slow/s0.jpg'));
    writeFileSync(at('Slow/s1.jpg'), await jpegBytes({ width: 77 }));
    for (let index = 10; index < 30; index += 1) await writeJpeg(at(`Slow/s${index}.jpg`));
    const slowReader = async (file: string) => {
      await delay(100);
      return readImageFacts(file);
    };
    const opened = openLibrary(sandbox, { readImage: slowReader, readConcurrency: 1 });
    const scanning = opened.library.scan();
    await delay(350);
    await opened.library.close();
    const report = await scanning;
    assert.equal(report.complete, false);
    const count = opened.library.listing('Slow')?.items.length ?? 0;
    assert.ok(count > 9 && count < 30, `some new photos were read before close (${count})`);
    // Removals happen right after the walk, which finished before close: s0 is gone.
    assert.equal(opened.library.item('Slow', 's0.jpg'), undefined);
  });
});

describe('library catalogue: from headers first, decode checks after', () => {
  let sandbox: Sandbox;
  const at = (relative: string) => path.join(sandbox.mediaRoot, relative);

  before(() => {
    sandbox = makeSandbox();
  });
  after(() => sandbox.remove());

  test('a photo is in the catalogue from its header, and the scan done, before its decode check has run', async () => {
    await writeJpeg(at('Drop/first.jpg'), { width: 32, height: 24 });
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const checked: string[] = [];
    const opened = openLibrary(sandbox, {
      checkImage: async (candidate) => {
        await held;
        checked.push(path.basename(candidate.file));
        return checkImageDecodes(candidate.file);
      },
    });
    try {
      const report = await opened.library.scan();
      assert.equal(report.added, 1);
      assert.ok(opened.library.item('Drop', 'first.jpg') !== undefined, 'the photo from its header');
      assert.deepEqual(checked, [], 'visible, and the scan done, before any decode check finished');
      release();
      await opened.library.idle();
      assert.deepEqual(checked, ['first.jpg']);
    } finally {
      release();
      await opened.library.close();
    }
  });

  test('a large JPEG is read from its first bytes, EXIF date and all; a truncated one is dropped after its check', async () => {
    const noise = Buffer.alloc(1200 * 900 * 3);
    for (let index = 0; index < noise.length; index += 1) noise[index] = (index * 2654435761) >>> 24;
    const large = await sharp(noise, { raw: { width: 1200, height: 900, channels: 3 } })
      .jpeg({ quality: 95 })
      .withExif({ IFD0: { Make: 'keepsake-test' }, IFD2: { DateTimeOriginal: '2021:05:06 07:08:09' } })
      .toBuffer();
    assert.ok(large.length > 512 * 1024, `the test photo is large (${large.length} bytes)`);
    mkdirSync(at('Big'), { recursive: true });
    writeFileSync(at('Big/large.jpg'), large);
    writeFileSync(at('Big/cut.jpg'), large.subarray(0, Math.floor(large.length * 0.7)));
    const opened = openLibrary(sandbox);
    try {
      const facts = await readImageFacts(at('Big/cut.jpg'));
      assert.deepEqual([facts.width, facts.height, facts.takenAt], [1200, 900, Date.UTC(2021, 4, 6, 7, 8, 9)], 'the header of a cut file reads fine');
      await assert.rejects(checkImageDecodes(at('Big/cut.jpg')), /premature end|truncated|corrupt|VipsJpeg/i);
      await opened.library.scan();
      await opened.library.idle();
      const item = opened.library.item('Big', 'large.jpg');
      assert.deepEqual([item?.width, item?.height, item?.takenAt], [1200, 900, Date.UTC(2021, 4, 6, 7, 8, 9)]);
      assert.equal(opened.library.item('Big', 'cut.jpg'), undefined, 'the truncated photo is dropped');
      assert.equal(opened.logged.about('Big/cut.jpg')[0]?.reason, 'unreadable-image');
    } finally {
      await opened.library.close();
    }
  });
});
