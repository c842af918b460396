/**
 * `npm run bench:video [-- --rounds N]`: what a video's poster derivatives cost. Two 10 s phone
 * videos are made once with Debian's ffmpeg (1920×1080, H.264 and HEVC, kept in
 * bench/corpus/video/); then keepsake's derivatives module makes all four default variants of
 * each from a frame a tenth of the way in (ffmpeg, then the photo pipeline), beside the floor:
 * ffmpeg writing that one frame to a PNG file, then plain sharp making the same four variants.
 * One at a time, best of interleaved rounds. Then each video's playable copy, beside the time the
 * video takes to play.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { createDerivatives, videoFile } from '../src/derivatives/index.js';
import { videoTools } from '../src/ffmpeg.js';
import { readVideoFacts } from '../src/library/video-facts.js';
import { createLogger } from '../src/log.js';
import { PLAYABLE } from '../src/media-contract.js';
import { openVerified } from '../src/paths.js';
import { CORPUS_DIR, option, positiveNumber, report, runCommand, tempFolder, type Row } from './common.js';
import { sharpCascade } from './derivative-modes.js';

const FFMPEG = '/usr/bin/ffmpeg';
const VIDEO_DIR = path.join(CORPUS_DIR, 'video');
const CODECS = { h264: 'libx264', hevc: 'libx265' } as const;
type Codec = keyof typeof CODECS;

async function makeCorpus(): Promise<Record<Codec, string>> {
  await mkdir(VIDEO_DIR, { recursive: true });
  const files = {} as Record<Codec, string>;
  for (const [codec, encoder] of Object.entries(CODECS) as Array<[Codec, string]>) {
    const file = path.join(VIDEO_DIR, `phone-${codec}.mp4`);
    if (!existsSync(file)) {
      const args = ['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30:duration=10', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=10'];
      args.push('-c:v', encoder, '-pix_fmt', 'yuv420p', '-preset', 'veryfast', '-c:a', 'aac', '-shortest', ...(codec === 'hevc' ? ['-tag:v', 'hvc1', '-x265-params', 'log-level=error'] : []), file);
      const made = await runCommand(FFMPEG, args, { timeoutMs: 300_000 });
      if (made.code !== 0) throw new Error(`ffmpeg could not make ${file}: ${made.stderr.slice(-300)}`);
    }
    files[codec] = file;
  }
  return files;
}

/** keepsake: the four variants of a video's poster, through the derivatives module (ms). */
async function keepsakePosters(file: string, cacheDir: string, durationMs: number): Promise<number> {
  const derivatives = createDerivatives({ cacheDir, log: createLogger('warn', createWriteStream('/dev/null')), concurrency: 1, timeLimitMs: 300_000 });
  const { size, mtimeMs } = await stat(file);
  const source = {
    albumPath: 'video',
    name: path.basename(file),
    size,
    mtimeMs,
    read: async () => {
      const { handle } = await openVerified(path.dirname(file), [path.basename(file)], path.dirname(file));
      try {
        return await videoTools().posterFrame(handle, path.basename(file), durationMs);
      } finally {
        await handle.close();
      }
    },
  };
  const started = performance.now();
  await derivatives.ensureAll(source, derivatives.variants, 'now');
  const ms = performance.now() - started;
  await derivatives.close();
  return ms;
}

/** keepsake: the playable copy of a video (a stream copy, or a transcode on one thread at low priority), in ms. */
async function keepsakeCopy(file: string, cacheDir: string): Promise<number> {
  const derivatives = createDerivatives({ cacheDir, log: createLogger('warn', createWriteStream('/dev/null')), concurrency: 1, videoTools: videoTools() });
  const { size, mtimeMs } = await stat(file);
  const open = async () => videoFile(await openVerified(path.dirname(file), [path.basename(file)], path.dirname(file)), path.basename(file));
  const source = { albumPath: 'video', name: path.basename(file), size, mtimeMs, read: () => Promise.reject(new Error('not a photo')), openVideo: open };
  const started = performance.now();
  await derivatives.ensure(source, PLAYABLE, 'now');
  const ms = performance.now() - started;
  await derivatives.close();
  return ms;
}

/** The floor: ffmpeg writes the frame to a PNG file, plain sharp makes the four variants (ms). */
async function plainPosters(file: string, outDir: string, durationMs: number): Promise<number> {
  const png = path.join(outDir, `${path.basename(file)}.png`);
  const started = performance.now();
  const made = await runCommand(FFMPEG, ['-hide_banner', '-v', 'error', '-y', '-ss', ((durationMs / 1000) * 0.1).toFixed(3), '-i', file, '-frames:v', '1', png], { timeoutMs: 60_000 });
  if (made.code !== 0) throw new Error(`ffmpeg failed: ${made.stderr.slice(-300)}`);
  await sharpCascade(png, outDir);
  return performance.now() - started;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (videoTools().missing !== undefined) throw new Error(videoTools().missing);
  const rounds = option('rounds', 3, positiveNumber('rounds'));
  const files = await makeCorpus();
  const out = await tempFolder('video');
  const rows: Row[] = [];
  const details: Record<string, { keepsake: number[]; plain: number[] }> = {};
  try {
    for (const [codec, file] of Object.entries(files) as Array<[Codec, string]>) {
      const facts = (await readVideoFacts(file))!;
      const keepsake: number[] = [];
      const plain: number[] = [];
      for (let round = 0; round < rounds; round += 1) {
        keepsake.push(await keepsakePosters(file, path.join(out.dir, `cache-${codec}-${round}`), facts.durationMs));
        plain.push(await plainPosters(file, out.dir, facts.durationMs));
      }
      details[codec] = { keepsake, plain };
      rows.push({ measure: `poster derivatives (all four) of a 10 s 1080p ${codec.toUpperCase()} video`, ours: Math.min(...keepsake), reference: Math.min(...plain), referenceName: 'ffmpeg frame to PNG, then plain sharp', unit: 'ms' });
    }
    const probeMs: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const started = performance.now();
      await readVideoFacts(files.hevc);
      probeMs.push(performance.now() - started);
    }
    rows.push({ measure: 'cataloguing one video (ffprobe: size, length, date)', ours: Math.min(...probeMs), reference: undefined, referenceName: '', unit: 'ms' });
    // Against the video's own length: below 1× a copy is made faster than the video plays.
    for (const [codec, how] of [['h264', 'stream copy'], ['hevc', 'transcode to H.264, one thread, nice 10']] as const) {
      const copyMs: number[] = [];
      for (let round = 0; round < Math.min(rounds, 2); round += 1) copyMs.push(await keepsakeCopy(files[codec], path.join(out.dir, `copy-${codec}-${round}`)));
      details[`copy-${codec}`] = { keepsake: copyMs, plain: [] };
      rows.push({ measure: `playable copy of a 10 s 1080p ${codec.toUpperCase()} video (${how})`, ours: Math.min(...copyMs), reference: 10_000, referenceName: 'the video playing', unit: 'ms' });
    }
  } finally {
    await out.remove();
  }
  await report('video', `Videos: poster derivatives and probing (best of ${rounds})`, rows, details);
}
