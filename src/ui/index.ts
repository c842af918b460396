import { DEFAULT_ASSETS_DIR, loadAssets, vendorAssets, type AssetCatalogue } from './assets.js';
import { devicePage, type DevicePageOptions } from './device-page.js';
import { manifestOf } from './manifest.js';
import { placesPage } from './places-page.js';
import { sharePage, type SharePageOptions } from './share-page.js';
import { timelineMonthPage, timelinePage } from './timeline-page.js';
import {
  albumIndexPage,
  albumPage,
  loginPage,
  notFoundPage,
  type AlbumIndexOptions,
  type AlbumPageOptions,
  type ErrorPageOptions,
  type LoginPageOptions,
} from './pages.js';

export type { AlbumView, ItemView, PlaceEntryView, PlaceView, VisitorView } from './view-models.js';
export type { Asset, AssetCatalogue } from './assets.js';
export type { AlbumIndexOptions, AlbumPageOptions, ErrorPageOptions, LoginPageOptions } from './pages.js';
export type { SharePageOptions } from './share-page.js';
export { ONE_TIME_PAGE_REFERRER } from './layout.js';
export type { DevicePageOptions } from './device-page.js';
export type { TimelineMonth } from './timeline-page.js';
export { isSortOrder, isTheme, sortItems, SORT_ORDERS, THEMES, type Display, type SortOrder, type Theme } from './display.js';
export { DEFAULT_LOCALE, isLocale, LOCALES, translatorFor, type Locale, type MessageKey, type Translator } from './i18n.js';
export { formatDay } from './dates.js';
export { mapPage, pageOf, PAGE_SIZE, type Page } from './paging.js';

export type Ui = ReturnType<typeof createUi>;

/** Server-rendered pages and their fingerprinted browser assets. */
export function createUi(assets: AssetCatalogue = loadAssets(DEFAULT_ASSETS_DIR, vendorAssets())) {
  return {
    assets,
    renderLoginPage: (options: LoginPageOptions) => loginPage(assets, options),
    renderAlbumIndex: (options: AlbumIndexOptions) => albumIndexPage(assets, options),
    renderAlbumPage: (options: AlbumPageOptions) => albumPage(assets, options),
    renderSharePage: (options: SharePageOptions) => sharePage(assets, options),
    renderDevicePage: (options: DevicePageOptions) => devicePage(assets, options),
    renderPlacesPage: (options: Parameters<typeof placesPage>[1]) => placesPage(assets, options),
    renderTimeline: (options: Parameters<typeof timelinePage>[1]) => timelinePage(assets, options),
    renderTimelineMonth: (options: Parameters<typeof timelineMonthPage>[1]) => timelineMonthPage(assets, options),
    renderNotFound: (options: ErrorPageOptions) => notFoundPage(assets, options),
    manifest: (display: Pick<import('./display.js').Display, 't'>) => manifestOf(assets, display.t),
  };
}
