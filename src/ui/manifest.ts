import type { AssetCatalogue } from './assets.js';
import type { Translator } from './i18n.js';

/**
 * The web app manifest, so the gallery can sit on a home screen. There is deliberately no
 * service worker: nothing is cached for offline use, so a revoked session loses its photos.
 */
export function manifestOf(assets: AssetCatalogue, t: Translator): Record<string, unknown> {
  return {
    name: 'keepsake',
    short_name: 'keepsake',
    description: t.t('login.title'),
    lang: t.locale,
    start_url: '/',
    scope: '/',
    display: 'standalone',
    background_color: '#0f1012',
    theme_color: '#0f1012',
    icons: [
      { src: assets.url('icon-192.png'), sizes: '192x192', type: 'image/png' },
      { src: assets.url('icon-512.png'), sizes: '512x512', type: 'image/png' },
      { src: assets.url('icon-maskable-512.png'), sizes: '512x512', type: 'image/png', purpose: 'maskable' },
      { src: assets.url('icon.svg'), sizes: 'any', type: 'image/svg+xml' },
    ],
  };
}
