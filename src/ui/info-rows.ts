import { formatDayTime } from './dates.js';
import type { Translator } from './i18n.js';
import type { ItemView } from './view-models.js';

/*
 * The viewer's photo info, as label/value rows in the visitor's language. Only what the
 * catalogue's allow-list kept (src/library/photo-info.ts) reaches an ItemView at all; this file
 * only words it: date taken, camera, lens, exposure, size.
 */

export type InfoRow = readonly [label: string, value: string];

/** "1/250 s", "0.5 s", "2 s": how photographers write a shutter time. */
export function exposureTimeText(seconds: number, t: Translator): string {
  if (seconds > 0 && seconds < 0.5) return `1/${t.number(Math.round(1 / seconds))} s`;
  return `${t.number(seconds, { maximumFractionDigits: 1 })} s`;
}

function exposureText(item: ItemView, t: Translator): string | undefined {
  const info = item.info;
  if (info === undefined) return undefined;
  const parts = [
    info.exposureSeconds === undefined ? undefined : exposureTimeText(info.exposureSeconds, t),
    info.fNumber === undefined ? undefined : `ƒ/${t.number(info.fNumber, { maximumFractionDigits: 1 })}`,
    info.iso === undefined ? undefined : `ISO ${t.number(info.iso)}`,
    info.focalLengthMm === undefined ? undefined : `${t.number(info.focalLengthMm, { maximumFractionDigits: 1 })} mm`,
  ].filter((part): part is string => part !== undefined);
  const equivalent = info.focalLength35mm;
  if (equivalent !== undefined && equivalent !== info.focalLengthMm) parts.push(t.t('info.focal35', { value: equivalent }));
  return parts.length === 0 ? undefined : parts.join(' · ');
}

export function infoRows(item: ItemView, t: Translator): InfoRow[] {
  const rows: [string, string | undefined][] = [
    [t.t('info.taken'), formatDayTime(item.takenAt, t.locale) || undefined],
    [t.t('info.camera'), item.info?.camera],
    [t.t('info.lens'), item.info?.lens],
    [t.t('info.exposure'), exposureText(item, t)],
    [t.t('info.dimensions'), item.width > 0 && item.height > 0 ? t.t('info.dimensionsValue', { width: item.width, height: item.height }) : undefined],
  ];
  return rows.filter((row): row is [string, string] => row[1] !== undefined && row[1] !== '');
}
