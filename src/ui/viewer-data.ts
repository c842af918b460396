import type { AssetCatalogue } from './assets.js';
import type { Display } from './display.js';
import type { MessageKey } from './i18n.js';

/** Every word the viewer and the page script show, handed to them in <body data-messages>. */
const SCRIPT_MESSAGES: readonly MessageKey[] = [
  'viewer.label',
  'viewer.close',
  'viewer.zoom',
  'viewer.previous',
  'viewer.next',
  'viewer.error',
  'viewer.download',
  'viewer.live',
  'viewer.preparing',
  'viewer.play',
  'viewer.pause',
  'viewer.interval',
  'viewer.info',
  'viewer.infoTitle',
  'viewer.infoNone',
  'albums.new',
];

/** The `data-*` a page with a photo grid needs: the viewer's modules and its words. */
export function viewerData(assets: AssetCatalogue, display: Display): Record<string, string> {
  return {
    'viewer-module': assets.url('viewer.js'),
    'lightbox-module': assets.url('photoswipe-lightbox.js'),
    'photoswipe-module': assets.url('photoswipe.js'),
    'placeholder-module': assets.url('thumbhash.js'),
    messages: JSON.stringify(display.t.pick(SCRIPT_MESSAGES)),
  };
}
