import { playUrlOf } from '../media-contract.js';
import { formatDay, placeText } from './dates.js';
import { html, type SafeHtml } from './html.js';
import type { Translator } from './i18n.js';
import { infoRows } from './info-rows.js';
import type { ItemView } from './view-models.js';

/**
 * Long edge of each resizing derivative (never enlarged), smallest first. `thumb` is a
 * square crop, so it only serves as a grid candidate for photos that are square anyway.
 */
export const VARIANT_LONG_EDGES = { small: 640, medium: 1280, large: 2048 } as const;
const THUMB_EDGE = 320;

/**
 * Target row heights of the photo grid by viewport width. The same numbers live in
 * gallery.css (the no-script grid) and gallery.js (the justified rows); the server uses
 * them to write a `sizes` that matches the tile before any script has run.
 */
export const ROW_HEIGHTS: readonly { readonly maxWidth: number; readonly rowHeight: number }[] = [
  { maxWidth: 479, rowHeight: 120 },
  { maxWidth: 799, rowHeight: 160 },
  { maxWidth: 1399, rowHeight: 220 },
  { maxWidth: 2199, rowHeight: 260 },
  { maxWidth: Number.POSITIVE_INFINITY, rowHeight: 320 },
];
/** Justified rows stretch tiles a little past the target height. */
const ROW_STRETCH = 1.3;

interface Candidate {
  readonly url: string;
  readonly width: number;
  readonly height: number;
}

function hasSize(item: ItemView): boolean {
  return item.width > 0 && item.height > 0;
}

function scaledTo(item: ItemView, url: string, longEdge: number): Candidate {
  const scale = Math.min(1, longEdge / Math.max(item.width, item.height));
  return { url, width: Math.max(1, Math.round(item.width * scale)), height: Math.max(1, Math.round(item.height * scale)) };
}

/** The derivatives this item has, each with its real pixel size, smallest first, no two the same width. */
export function imageCandidates(item: ItemView): Candidate[] {
  if (!hasSize(item)) return [];
  const candidates: Candidate[] = [];
  const thumb = item.urls['thumb'];
  if (thumb !== undefined && Math.abs(item.width - item.height) <= Math.max(item.width, item.height) * 0.01) {
    candidates.push(scaledTo(item, thumb, THUMB_EDGE));
  }
  for (const [variant, edge] of Object.entries(VARIANT_LONG_EDGES)) {
    const url = item.urls[variant];
    if (url === undefined) continue;
    const candidate = scaledTo(item, url, edge);
    if (candidates.some((known) => known.width >= candidate.width)) continue;
    candidates.push(candidate);
  }
  return candidates;
}

export function srcsetOf(candidates: readonly Candidate[]): string | undefined {
  return candidates.length === 0 ? undefined : candidates.map((candidate) => `${candidate.url} ${candidate.width}w`).join(', ');
}

/**
 * `auto` lets a browser that supports it size lazy images by their laid-out width; the
 * list after it is the estimate for other browsers: the tile at each breakpoint's row height.
 */
export function gridSizes(item: ItemView): string {
  const ratio = hasSize(item) ? item.width / item.height : 1;
  const parts = ROW_HEIGHTS.map(({ maxWidth, rowHeight }) => {
    const tile = Math.ceil(ratio * rowHeight * ROW_STRETCH);
    const width = Number.isFinite(maxWidth) ? `${Math.min(tile, maxWidth)}px` : `${tile}px`;
    return Number.isFinite(maxWidth) ? `(max-width: ${maxWidth}px) ${width}` : width;
  });
  return ['auto', ...parts].join(', ');
}

/** Words from a file name: "sunset_glow-2.jpg" → "sunset glow 2". */
export function altText(name: string): string {
  const words = name.replace(/\.[^.]+$/, '').replace(/[-_.]+/g, ' ').trim();
  return words === '' ? name : words;
}

/** What every tile carries besides its image: a name unique on the page, a caption, photo info, a placeholder. */
interface TileText {
  readonly key: string;
  readonly alt: string;
  readonly caption: string;
  readonly info: string;
  readonly t: Translator;
}

/** The `<li>`'s attributes: the ThumbHash placeholder gallery.js paints until the image arrives. */
function tileAttributes(item: ItemView, classes: string): SafeHtml {
  return html`class="${classes}"${item.placeholder === undefined ? '' : html` data-placeholder="${item.placeholder}"`}`;
}

function missingTile(text: TileText): SafeHtml {
  return html`<li class="tile is-missing"><span class="tile-missing" role="img" aria-label="${text.t.t('tile.missing', { name: text.alt })}"></span></li>`;
}

function imageTile(item: ItemView, text: TileText): SafeHtml {
  const { alt, caption } = text;
  const candidates = imageCandidates(item);
  const largest = candidates.at(-1);
  const viewerSrc = largest?.url ?? item.urls['original'];
  const gridSrc = candidates.find((candidate) => candidate.width >= 320)?.url ?? largest?.url ?? item.urls['original'];
  const width = largest?.width ?? item.width;
  const height = largest?.height ?? item.height;
  if (viewerSrc === undefined || gridSrc === undefined) return missingTile(text);
  const srcset = srcsetOf(candidates);
  const motion = item.urls['motion'];
  return html`<li ${tileAttributes(item, 'tile')}><a class="tile-link" href="${viewerSrc}" data-name="${text.key}" data-width="${width}" data-height="${height}" data-caption="${caption}" data-info="${text.info}"${item.urls['original'] === undefined ? '' : html` data-original="${item.urls['original']}"`}${motion === undefined ? '' : html` data-motion="${motion}"`}>
<img src="${gridSrc}"${srcset === undefined ? '' : html` srcset="${srcset}" sizes="${gridSizes(item)}"`} alt="${alt}" width="${item.width}" height="${item.height}" loading="lazy" decoding="async" draggable="false">${motion === undefined ? '' : html`<span class="tile-live" aria-hidden="true">${text.t.t('tile.live')}</span>`}</a></li>`;
}

/** "1:05", "1:02:03": a video's length as a badge shows it. */
export function durationText(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const [hours, minutes, rest] = [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), whole % 60];
  const pad = (value: number) => String(value).padStart(2, '0');
  return hours > 0 ? `${hours}:${pad(minutes)}:${pad(rest)}` : `${minutes}:${pad(rest)}`;
}

function videoTile(item: ItemView, text: TileText): SafeHtml {
  const { alt, caption } = text;
  const video = playUrlOf(item.urls);
  if (video === undefined) return missingTile(text);
  const size = hasSize(item) ? html` width="${item.width}" height="${item.height}"` : '';
  const dataSize = hasSize(item) ? html` data-width="${item.width}" data-height="${item.height}"` : '';
  const original = item.urls['original'] === undefined ? '' : html` data-original="${item.urls['original']}"`;
  const length = typeof item.durationSeconds === 'number' ? durationText(item.durationSeconds) : undefined;
  // The link's name is its text (visible length included), so what is read matches what is shown.
  const badge = html`<span class="visually-hidden">${text.t.t('tile.video', { name: alt })}${length === undefined ? '' : ', '}</span><span class="play-badge" aria-hidden="true"></span>${length === undefined ? '' : html`<span class="video-length">${length}</span>`}`;
  // The poster: derivatives of a frame a tenth of the way in (when ffmpeg made them).
  const candidates = imageCandidates(item);
  const poster = candidates.at(-1);
  if (poster !== undefined) {
    const gridSrc = candidates.find((candidate) => candidate.width >= 320)?.url ?? poster.url;
    const srcset = srcsetOf(candidates);
    return html`<li ${tileAttributes(item, 'tile is-video')}><a class="tile-link" href="${video}" data-type="video" data-name="${text.key}"${dataSize} data-poster="${poster.url}" data-caption="${caption}" data-info="${text.info}"${original}>
<img src="${gridSrc}"${srcset === undefined ? '' : html` srcset="${srcset}" sizes="${gridSizes(item)}"`} alt="" width="${item.width}" height="${item.height}" loading="lazy" decoding="async" draggable="false">${badge}</a></li>`;
  }
  // No poster: `#t=0.1` makes browsers paint an early frame; the browser learns an unprobed video's size from its metadata.
  return html`<li class="tile is-video"><a class="tile-link" href="${video}" data-type="video" data-name="${text.key}"${dataSize} data-caption="${caption}" data-info="${text.info}"${original}>
<video src="${video}#t=0.1"${size} preload="metadata" muted playsinline disablepictureinpicture tabindex="-1" aria-hidden="true"></video>${badge}</a></li>`;
}

/**
 * One grid tile: a link to the largest rendition, so the grid works (and opens photos) without
 * script. `key` names it in the address when the viewer shows it (`#photo=<key>`): the file name
 * in an album, album and name where a page mixes albums (the timeline).
 */
export function photoTile(item: ItemView, t: Translator, key: string = item.name): SafeHtml {
  const alt = altText(item.name);
  const day = formatDay(item.takenAt, t.locale);
  const caption = [alt, day, item.place === undefined ? '' : placeText(item.place, t)].filter((part) => part !== '').join(' · ');
  const text: TileText = { key, alt, caption, info: JSON.stringify(infoRows(item, t)), t };
  return item.type === 'video' ? videoTile(item, text) : imageTile(item, text);
}
