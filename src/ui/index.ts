import { DEFAULT_ASSETS_DIR, loadAssets, vendorAssets, type AssetCatalogue } from './assets.js';
import { devicePage, type DevicePageOptions } from './device-page.js';
import { placesPage } from './places-page.js';
import { sharePage, type SharePageOptions } from './share-page.js';
import { albumIndexPage, albumPage, loginPage, type AlbumIndexOptions, type AlbumPageOptions, type LoginPageOptions } from './pages.js';

export type { AlbumView, ItemView, PlaceEntryView, PlaceView, VisitorView } from './view-models.js';
export type { Asset, AssetCatalogue } from './assets.js';
export type { AlbumIndexOptions, AlbumPageOptions, LoginPageOptions } from './pages.js';
export type { SharePageOptions } from './share-page.js';
export type { DevicePageOptions } from './device-page.js';

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
  };
}
