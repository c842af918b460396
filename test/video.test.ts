import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { videoFactsFrom } from '../src/ffmpeg.js';
import { pairCompanions as pairMotion } from '../src/library/companions.js';
import type { MediaItem } from '../src/library/index.js';
import { Client } from './helpers/client.js';
import { makeJpeg, tempDir, waitUntil } from './helpers/fixtures.js';
import { serveProcess } from './helpers/robustness-process.js';
import { albumItems, familyAndViewer, type ApiItem } from './helpers/albums.js';
import type { TestServer } from './helpers/server.js';
import { makeMotionPhoto, makeVideo, probe, VIDEO_TOOLS_MISSING } from './helpers/videos.js';

/*
 * Videos as phones make them, made here with ffmpeg: an H.264 MP4 and an HEVC .mov that both
 * carry a place and a recording time, one under a name a shell would act on, and a file that is
 * no video at all. keepsake probes each (size, length, date) and makes its poster derivatives
 * from a frame a tenth of the way in.
 */

const PASSWORD = 'the family password';
const VIEWER = 'a viewer without originals';
const LOCATION = '+48.8584+002.2945/';
const HOSTILE_NAME = '-i x; $(touch pwned) `id`.mp4';
const IN_STREAM_GPS = 'MDPM-GPS-N48.8584-E2.2945';



async function meanColour(bytes: Buffer): Promise<{ r: number; g: number; b: number }> {
  const { channels } = await sharp(bytes).stats();
  return { r: channels[0]!.mean, g: channels[1]!.mean, b: channels[2]!.mean };
}

describe('videos', { skip: process.env['CI'] ? false : VIDEO_TOOLS_MISSING }, () => {
  let server: TestServer;
  let family: Client;
  let viewer: Client;

  before(async () => {
    const mediaRoot = await tempDir('keepsake-media-');
    const album = path.join(mediaRoot, 'Holiday');
    await mkdir(album, { recursive: true });
    await makeVideo(path.join(album, 'beach.mp4'), { width: 320, height: 240, seconds: 3, colour: 'red', location: LOCATION, createdAt: '2021-06-01T10:00:00Z' });
    await makeVideo(path.join(album, 'IMG_0042.MOV'), { width: 240, height: 320, seconds: 2, colour: '0x1030d0', codec: 'hevc', location: LOCATION, createdAt: '2022-07-02T08:30:00Z' });
    await makeVideo(path.join(album, HOSTILE_NAME), { colour: 'red' });
    await writeFile(path.join(album, 'broken.mp4'), Buffer.alloc(4096, 0x41));
    // A Live Photo (a photo and its few seconds as a .mov of the same name), and a photo beside a long video of the same name.
    await makeJpeg(path.join(album, 'IMG_0100.JPG'), { width: 64, height: 48, colour: '#30a050' });
    await makeVideo(path.join(album, 'IMG_0100.mov'), { seconds: 2, colour: '0x30a050' });
    await makeJpeg(path.join(album, 'trip.jpg'));
    // Motion Photos in both of Google's dialects, and a photo whose XMP announces a video it does not hold.
    await makeMotionPhoto(path.join(album, 'PXL_0001.MP.jpg'), { dialect: 'micro-video' });
    await makeMotionPhoto(path.join(album, 'PXL_0002.MP.jpg'), { dialect: 'container' });
    await makeMotionPhoto(path.join(album, 'PXL_0003.jpg'), { dialect: 'container', lie: true });
    await makeVideo(path.join(album, 'trip.mp4'), { seconds: 12 });
    // A camcorder's H.264 that needs no transcode but carries its GPS inside the picture stream, and a video whose stream 0 is its cover art.
    await makeVideo(path.join(album, 'camcorder.MTS'), { colour: 'yellow', inStreamText: IN_STREAM_GPS });
    await makeVideo(path.join(album, 'covered.mp4'), { colour: 'red', coverFirst: true });
    ({ server, family, viewer } = await familyAndViewer(mediaRoot, { family: PASSWORD, viewer: VIEWER }));
  });
  after(() => server?.close());

  it('lists each video with its size, length and recording date, and poster derivatives', async () => {
    const items = await albumItems(viewer, 'Holiday');
    const beach = items.find((item) => item.name === 'beach.mp4');
    assert.ok(beach, 'beach.mp4 is listed');
    assert.equal(beach.type, 'video');
    assert.deepEqual([beach.width, beach.height], [320, 240]);
    assert.ok(Math.abs((beach.durationSeconds ?? 0) - 3) < 0.2, `length ${beach.durationSeconds}`);
    assert.equal(beach.takenAt, '2021-06-01T10:00:00.000Z');
    assert.deepEqual(Object.keys(beach.urls).sort(), ['large', 'medium', 'playable', 'small', 'thumb'], 'a viewer gets the posters and the playable copy, not the video as recorded');
    const phone = items.find((item) => item.name === 'IMG_0042.MOV');
    assert.deepEqual([phone?.width, phone?.height, phone?.takenAt], [240, 320, '2022-07-02T08:30:00.000Z']);
  });

  it('makes posters from the video\'s own picture, with no byte of its metadata', async () => {
    const items = await albumItems(viewer, 'Holiday');
    for (const [name, expected] of [['beach.mp4', 'red'], ['IMG_0042.MOV', 'blue']] as const) {
      const item = items.find((entry) => entry.name === name)!;
      for (const variant of ['thumb', 'small', 'medium', 'large']) {
        const response = await viewer.get(item.urls[variant]!);
        assert.equal(response.status, 200, `${name} ${variant}`);
        assert.equal(response.headers.get('content-type'), 'image/webp');
        const bytes = Buffer.from(await response.arrayBuffer());
        const metadata = await sharp(bytes).metadata();
        assert.equal(metadata.exif, undefined, `${name} ${variant}: no EXIF`);
        assert.equal(metadata.xmp, undefined, `${name} ${variant}: no XMP`);
        for (const marker of ['48.8584', 'location', 'Lavf', 'Lavc']) assert.equal(bytes.indexOf(marker), -1, `${name} ${variant} holds no "${marker}"`);
        if (variant !== 'thumb') assert.ok(Math.abs(metadata.width / metadata.height - item.width / item.height) < 0.03, `${name} ${variant}: ${metadata.width}×${metadata.height}`);
        const colour = await meanColour(bytes);
        if (expected === 'red') assert.ok(colour.r > 180 && colour.b < 70, `${name} ${variant} is red: ${JSON.stringify(colour)}`);
        else assert.ok(colour.b > 150 && colour.r < 70, `${name} ${variant} is blue: ${JSON.stringify(colour)}`);
      }
    }
  });

  it('plays a copy every browser plays (H.264/AAC MP4), with Range and without the camera\'s metadata', async () => {
    const items = await albumItems(viewer, 'Holiday');
    for (const [name, size] of [['beach.mp4', [320, 240]], ['IMG_0042.MOV', [240, 320]]] as const) {
      const item = items.find((entry) => entry.name === name)!;
      assert.match(item.urls['playable']!, /\/playable\/Holiday\/[^/]+\.[0-9a-f]{12}\.mp4$/);
      const response = await viewer.get(item.urls['playable']!);
      assert.equal(response.status, 200, name);
      assert.equal(response.headers.get('content-type'), 'video/mp4');
      assert.equal(response.headers.get('accept-ranges'), 'bytes');
      assert.match(response.headers.get('cache-control') ?? '', /immutable/);
      const bytes = Buffer.from(await response.arrayBuffer());
      for (const marker of ['48.8584', 'location', 'ISO6709', '2021-06-01', '2022-07-02']) assert.equal(bytes.indexOf(marker), -1, `${name}'s copy holds no "${marker}"`);
      const file = path.join(await tempDir('keepsake-copy-'), 'copy.mp4');
      await writeFile(file, bytes);
      const facts = await probe(file);
      const streams = facts.streams.map((stream) => [stream['codec_type'], stream['codec_name']]);
      assert.deepEqual(streams, [['video', 'h264'], ['audio', 'aac']], `${name}: ${JSON.stringify(streams)}`);
      assert.deepEqual([facts.streams[0]!['width'], facts.streams[0]!['height']], size);
      assert.equal((facts.format['tags'] as Record<string, string> | undefined)?.['creation_time'], undefined, `${name}: no recording time`);
      const slice = await viewer.get(item.urls['playable']!, { range: 'bytes=0-99' });
      assert.equal(slice.status, 206);
      assert.equal((await slice.arrayBuffer()).byteLength, 100);
    }
    const copied = server.logLines.find((line) => line['msg'] === 'playable copy made' && line['name'] === 'IMG_0042.MOV');
    assert.equal(copied?.['video'], 'h264', 'the HEVC video was transcoded');
    assert.equal(server.logLines.find((line) => line['msg'] === 'playable copy made' && line['name'] === 'beach.mp4')?.['video'], 'copy', 'the H.264 video was copied as it is');
  });

  it('copies a browser-playable stream without what a camcorder writes inside it (SEI user data)', async () => {
    // `-c:v copy` kept the stream's own messages byte for byte: an AVCHD camcorder's GPS among them.
    assert.notEqual((await readFile(path.join(server.mediaRoot, 'Holiday', 'camcorder.MTS'))).indexOf(IN_STREAM_GPS), -1, 'the fixture carries it');
    const item = (await albumItems(viewer, 'Holiday')).find((entry) => entry.name === 'camcorder.MTS');
    assert.ok(item, 'listed');
    const response = await viewer.get(item.urls['playable']!);
    assert.equal(response.status, 200);
    const bytes = Buffer.from(await response.arrayBuffer());
    for (const marker of [IN_STREAM_GPS, '48.8584', 'MDPM']) assert.equal(bytes.indexOf(marker), -1, `the copy holds no "${marker}"`);
    const file = path.join(await tempDir('keepsake-copy-'), 'copy.mp4');
    await writeFile(file, bytes);
    assert.deepEqual((await probe(file)).streams.map((stream) => stream['codec_name']), ['h264', 'aac']);
    assert.equal(server.logLines.find((line) => line['msg'] === 'playable copy made' && line['name'] === 'camcorder.MTS')?.['video'], 'copy', 'copied, not transcoded');
  });

  it('plays a video whose first stream is its cover art: the copy and the poster are of the video', async () => {
    const item = (await albumItems(viewer, 'Holiday')).find((entry) => entry.name === 'covered.mp4');
    assert.ok(item, 'listed');
    assert.deepEqual([item.width, item.height], [320, 240]);
    const response = await viewer.get(item.urls['playable']!);
    assert.equal(response.status, 200, 'a playable copy was made');
    const file = path.join(await tempDir('keepsake-copy-'), 'copy.mp4');
    await writeFile(file, Buffer.from(await response.arrayBuffer()));
    const [picture] = (await probe(file)).streams;
    assert.deepEqual([picture?.['codec_name'], picture?.['width'], picture?.['height']], ['h264', 320, 240]);
    const poster = await viewer.get(item.urls['small']!);
    assert.equal(poster.status, 200);
    const colour = await meanColour(Buffer.from(await poster.arrayBuffer()));
    assert.ok(colour.r > 180 && colour.g < 90, `the poster is the red video, not the green cover: ${JSON.stringify(colour)}`);
  });

  it('keeps the video as recorded (its GPS atoms) for keys that allow originals', async () => {
    const asRecorded = (await albumItems(family, 'Holiday')).find((entry) => entry.name === 'beach.mp4')!.urls['video']!;
    const bytes = Buffer.from(await (await family.get(asRecorded)).arrayBuffer());
    assert.notEqual(bytes.indexOf('48.8584'), -1, 'the family downloads what the phone wrote');
    const viewersCopy = (await albumItems(viewer, 'Holiday')).find((entry) => entry.name === 'beach.mp4')!.urls['playable']!;
    const guessed = viewersCopy.replace(/\/playable\/Holiday\/.+$/, '/video/Holiday/beach.mp4');
    const refused = await viewer.get(guessed, { range: 'bytes=0-99' });
    assert.equal(refused.status, 404, 'a viewer without originals cannot fetch it by its URL');
  });

  it('reads a video whose name would mean something to a shell or to ffmpeg, and runs nothing', async () => {
    const item = (await albumItems(family, 'Holiday')).find((entry) => entry.name === HOSTILE_NAME);
    assert.ok(item, 'listed under its own name');
    assert.ok((item.durationSeconds ?? 0) > 1, 'probed');
    const response = await family.get(item.urls['medium']!);
    assert.equal(response.status, 200);
    assert.ok((await meanColour(Buffer.from(await response.arrayBuffer()))).r > 180, 'its own picture');
    assert.equal((await family.get(item.urls['playable']!)).status, 200, 'and its playable copy');
    assert.equal(existsSync(path.join(server.mediaRoot, 'Holiday', 'x')), false, 'no output file named by the file name');
    assert.equal(existsSync('pwned'), false, 'no command ran');
  });

  it('shows a Live Photo as one item that carries its motion, playable by every key', async () => {
    const items = await albumItems(viewer, 'Holiday');
    const live = items.find((item) => item.name === 'IMG_0100.JPG');
    assert.ok(live?.urls['motion'], 'the photo carries its motion');
    assert.match(live.urls['motion'], /\/playable\/Holiday\/IMG_0100\.mov\.[0-9a-f]{12}\.mp4$/);
    assert.equal(items.some((item) => item.name === 'IMG_0100.mov'), false, 'the motion clip is not an item of its own');
    const motion = await viewer.get(live.urls['motion'], { range: 'bytes=0-99' });
    assert.equal(motion.status, 206, 'a key without originals plays it');
    assert.ok(items.some((item) => item.name === 'trip.mp4'), 'a long video beside a photo of its name stays a video');
    assert.equal(items.find((item) => item.name === 'trip.jpg')?.urls['motion'], undefined);
    const albums = ((await (await viewer.get('/api/albums')).json()) as { albums: Array<{ path: string; photoCount: number }> }).albums;
    assert.equal(albums.find((entry) => entry.path === 'Holiday')?.photoCount, items.length, 'the album counts a Live Photo once');
  });

  it('plays a Motion Photo\'s appended video as its motion, cut out and copied without metadata', async () => {
    const items = await albumItems(viewer, 'Holiday');
    for (const name of ['PXL_0001.MP.jpg', 'PXL_0002.MP.jpg']) {
      const item = items.find((entry) => entry.name === name);
      assert.equal(item?.type, 'image', `${name} is a photo`);
      assert.match(item.urls['motion'] ?? '', /\/playable\/Holiday\/PXL_000\d\.MP\.jpg\.[0-9a-f]{12}\.mp4$/, name);
      assert.equal(item.urls['playable'], undefined, 'a photo lists its motion under that name only');
      const response = await viewer.get(item.urls['motion']!);
      assert.equal(response.status, 200, name);
      const bytes = Buffer.from(await response.arrayBuffer());
      assert.equal(bytes.indexOf('48.8584'), -1, `${name}: the copy holds no place`);
      const file = path.join(await tempDir('keepsake-motion-'), 'motion.mp4');
      await writeFile(file, bytes);
      assert.equal((await probe(file)).streams[0]?.['codec_name'], 'h264', name);
      const photo = await viewer.get(item.urls['medium']!);
      assert.equal((await sharp(Buffer.from(await photo.arrayBuffer())).metadata()).format, 'webp', `${name}: the photo shows as a photo`);
    }
    const liar = items.find((entry) => entry.name === 'PXL_0003.jpg');
    assert.ok(liar, 'a photo whose XMP lies is still a photo');
    assert.equal(liar.urls['motion'], undefined, 'with no motion');
  });

  it('lists a file that is no video with a placeholder, no poster and one log line', async () => {
    const broken = (await albumItems(family, 'Holiday')).find((entry) => entry.name === 'broken.mp4');
    assert.ok(broken, 'still listed: it may play somewhere');
    assert.deepEqual([broken.width, broken.height, broken.durationSeconds], [0, 0, null]);
    assert.equal(broken.urls['thumb'], undefined, 'no poster URL');
    const lines = server.logLines.filter((line) => line['path'] === 'Holiday/broken.mp4');
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.equal(lines[0]!['level'], 40);
    const page = await (await family.get('/albums/Holiday')).text();
    assert.match(page, /broken\.mp4#t=0\.1/, 'the grid shows the video itself as its placeholder');
    assert.match(page, /data-poster="[^"]+beach\.mp4\.[0-9a-f]{12}\.webp"/, 'a probed video has a poster in the grid');
  });
});

describe('Live Photos', () => {
  const photo = (name: string): MediaItem => ({ name, albumPath: 'A', type: 'image', size: 1, mtimeMs: 1, width: 4, height: 3, takenAt: 1 });
  const video = (name: string, durationMs: number | undefined): MediaItem => ({ name, albumPath: 'A', type: 'video', size: 1, mtimeMs: 1, width: 4, height: 3, takenAt: 1, ...(durationMs === undefined ? {} : { durationMs }) });

  it('pairs a photo with a short video of the same base name, whatever the case of either', () => {
    const paired = pairMotion([photo('IMG_1.HEIC'), video('img_1.MOV', 2_500), photo('other.jpg')]);
    assert.deepEqual(paired.map((item) => [item.name, item.motion?.name]), [['IMG_1.HEIC', 'img_1.MOV'], ['other.jpg', undefined]]);
  });

  it('leaves a long video, an unprobed or unreadable one, and a video with no photo as videos of their own', () => {
    const items = [photo('a.jpg'), video('a.mp4', 12_000), photo('b.jpg'), video('b.mov', undefined), photo('c.jpg'), video('c.mov', 0), video('d.mov', 2_000)];
    assert.deepEqual(pairMotion(items).map((item) => [item.name, item.motion?.name]), items.map((item) => [item.name, undefined]));
  });
});

describe('videos without ffmpeg', { skip: process.env['CI'] ? false : VIDEO_TOOLS_MISSING }, () => {
  it('says so in one line at start, lists videos as they are, and probes them once ffmpeg is there', async () => {
    const mediaRoot = await tempDir('keepsake-media-');
    const stateDir = await tempDir('keepsake-state-');
    await makeVideo(path.join(mediaRoot, 'Holiday', 'beach.mp4'), { colour: 'red' });
    const env = { KEEPSAKE_MEDIA_ROOT: mediaRoot, KEEPSAKE_STATE_DIR: stateDir, KEEPSAKE_LOG_LEVEL: 'info' };
    // A PATH with neither ffmpeg nor ffprobe in it: a machine without Debian's ffmpeg.
    const without = await serveProcess({ ...env, PATH: await tempDir('keepsake-empty-path-') });
    let item: ApiItem | undefined;
    try {
      const client = new Client(without.url);
      await client.login(without.firstPassword!);
      await waitUntil(async () => (item = (await albumItems(client, 'Holiday'))[0]) !== undefined, 20_000, 'the video to be listed');
      assert.deepEqual([item!.width, item!.durationSeconds, item!.urls['thumb']], [0, null, undefined], 'listed as before: no size, no length, no poster');
      assert.ok(item!.urls['video'] !== undefined, 'and still playable');
      const lines = without.output().split('\n').filter((line) => /ffmpeg and ffprobe are not installed/.test(line));
      assert.equal(lines.length, 1, without.output());
    } finally {
      await without.stop();
    }
    const withTools = await serveProcess(env);
    try {
      const client = new Client(withTools.url);
      await client.login(without.firstPassword!);
      await waitUntil(async () => ((await albumItems(client, 'Holiday'))[0]?.width ?? 0) > 0, 20_000, 'the video to be probed after ffmpeg appeared');
      const probed = (await albumItems(client, 'Holiday'))[0]!;
      assert.deepEqual([probed.width, probed.height], [320, 240]);
      assert.ok(probed.urls['thumb'] !== undefined, 'now with a poster');
      assert.equal(withTools.output().includes('ffmpeg and ffprobe are not installed'), false);
    } finally {
      await withTools.stop();
    }
  });
});

describe('video facts from ffprobe', () => {
  it('turns a phone video recorded sideways, and ignores cover pictures and unset clocks', () => {
    const facts = videoFactsFrom({
      streams: [
        { codec_type: 'video', width: 600, height: 600, disposition: { attached_pic: 1 } },
        { codec_type: 'video', width: 1920, height: 1080, side_data_list: [{ rotation: -90 }], tags: { creation_time: '1904-01-01T00:00:00Z' } },
      ],
      format: { duration: '12.345', tags: { 'com.apple.quicktime.creationdate': '2023-05-06T07:08:09+0200' } },
    });
    assert.deepEqual(facts, { width: 1080, height: 1920, durationMs: 12_345, takenAt: Date.parse('2023-05-06T05:08:09Z') });
    const unset = videoFactsFrom({ streams: [{ codec_type: 'video', width: 640, height: 480, tags: { rotate: '180' } }], format: { tags: { creation_time: '1904-01-01T00:00:00Z' } } });
    assert.deepEqual(unset, { width: 640, height: 480, durationMs: 0, takenAt: undefined });
  });

  it('refuses a file with no video picture', () => {
    assert.throws(() => videoFactsFrom({ streams: [{ codec_type: 'audio' }], format: {} }), /no video picture/);
  });
});
