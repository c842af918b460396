// @ts-check
/**
 * keepsake's page script: an ES module served from /assets/ (the CSP allows no inline script).
 * Progressive enhancement only; every page works without it:
 *  - deterrents: no right-click or drag on photos when <body class="deterrents">;
 *  - the photo grid becomes justified rows, laid out from each photo's width and height;
 *  - a click (or Enter) on a tile opens the viewer (viewer.js, PhotoSwipe) instead of the bare image;
 *  - a photo the server was too busy to make just now (503: many new photos at once) is asked
 *    for again a little later, a few times, instead of staying broken;
 *  - each tile shows its photo's ThumbHash placeholder until the thumbnail arrives;
 *  - a big album's next page of photos is fetched and appended as the visitor nears the end;
 *  - albums with photos added since this browser last looked are marked "New".
 * Fingerprinted URLs of the other modules, and every word shown, come from data-* on <body>.
 */

const GAP = 4;
/** Crop extreme panoramas and portraits a little rather than make a row a sliver. */
const MIN_RATIO = 0.5;
const MAX_RATIO = 3;

const body = document.body;
/** @type {Record<string, string>} */
const messages = JSON.parse(body.dataset['messages'] ?? '{}');
if (body.classList.contains('deterrents')) preventSaving(document);
retryBusyImages(document);
markNewAlbums();

const grid = document.querySelector('.photo-grid');
if (grid instanceof HTMLElement) {
  const placeholders = paintPlaceholders(grid);
  const layout = justifyGrid(grid);
  const viewer = enableViewer(grid);
  loadMorePages(grid, (tiles) => {
    placeholders.add(tiles);
    layout.add(tiles);
    viewer.then((viewerApi) => viewerApi?.refresh());
  });
}

/**
 * "New since your last visit", kept in this browser only (localStorage): for each album, the
 * server time of the last visit to its page. An album never visited counts from this browser's
 * first visit, so on a first visit nothing is marked. Times are the server's (data-now), so a
 * wrong clock on the device changes nothing.
 */
function markNewAlbums() {
  const KEY = 'keepsake.seen';
  const now = body.dataset['now'];
  if (now === undefined) return;
  /** @type {{ since?: string, albums?: Record<string, string> }} */
  let seen = {};
  try {
    seen = JSON.parse(localStorage.getItem(KEY) ?? '{}') ?? {};
  } catch {
    seen = {}; // storage unreadable or off: nothing is marked
  }
  const since = seen.since ?? now;
  const albums = seen.albums ?? {};
  for (const card of document.querySelectorAll('.album-card[data-added]')) {
    if (!(card instanceof HTMLElement)) continue;
    const path = card.dataset['album'] ?? '';
    const added = card.dataset['added'] ?? '';
    if (added <= (albums[path] ?? since)) continue;
    const badge = document.createElement('span');
    badge.className = 'badge-new';
    badge.textContent = messages['albums.new'] ?? 'New';
    card.querySelector('.album-title')?.append(' ', badge);
  }
  const visited = body.dataset['album'];
  if (visited !== undefined) albums[visited] = now;
  try {
    localStorage.setItem(KEY, JSON.stringify({ since, albums }));
  } catch {
    // private mode or a full storage: the marks simply do not persist
  }
}

/**
 * Each tile's ThumbHash (data-placeholder, carried in the page) painted as its background once it
 * nears the screen, until its thumbnail has loaded: the grid shows shapes and colours at once.
 * @param {HTMLElement} grid
 */
function paintPlaceholders(grid) {
  const url = body.dataset['placeholderModule'];
  const decoder = url === undefined ? Promise.resolve(undefined) : import(url).catch(() => undefined);
  const observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        observer.unobserve(entry.target);
        void decoder.then((module) => module && paintOne(/** @type {HTMLElement} */ (entry.target), module));
      }
    },
    { rootMargin: '800px 0px' },
  );
  const add = (/** @type {Element[]} */ tiles) => {
    for (const tile of tiles) if (tile instanceof HTMLElement && tile.dataset['placeholder']) observer.observe(tile);
  };
  add([...grid.children]);
  return { add };
}

/** @param {HTMLElement} tile @param {{ thumbHashToDataURL(hash: Uint8Array): string }} thumbhash */
function paintOne(tile, thumbhash) {
  const image = tile.querySelector('img');
  if (image?.complete && image.naturalWidth > 0) return;
  try {
    const bytes = Uint8Array.from(atob(tile.dataset['placeholder'] ?? ''), (character) => character.charCodeAt(0));
    tile.style.backgroundImage = `url("${thumbhash.thumbHashToDataURL(bytes)}")`;
    tile.classList.add('has-placeholder');
  } catch {
    return; // a placeholder that does not decode: the tile keeps its plain background
  }
  image?.addEventListener('load', () => image.classList.add('is-loaded'), { once: true });
}

/**
 * A big album comes in pages (?page=N). As the visitor nears the end of the grid the next page is
 * fetched and its tiles appended, so the album scrolls on as one; the pager's links stay for
 * browsers without script. At most one page is fetched at a time.
 * @param {HTMLElement} grid
 * @param {(tiles: HTMLElement[]) => void} appended
 */
function loadMorePages(grid, appended) {
  const pager = grid.parentElement?.querySelector('.pager');
  let next = pager?.querySelector('a[rel=next]');
  if (!(next instanceof HTMLAnchorElement) || pager?.querySelector('a[rel=prev]')) return;
  body.classList.add('has-endless-grid');
  let loading = false;
  const sentinel = document.createElement('div');
  sentinel.setAttribute('aria-hidden', 'true');
  grid.after(sentinel);
  const loadNext = async () => {
    if (loading || !(next instanceof HTMLAnchorElement)) return;
    loading = true;
    try {
      const response = await fetch(next.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const page = new DOMParser().parseFromString(await response.text(), 'text/html');
      const tiles = /** @type {HTMLElement[]} */ ([...(page.querySelector('.photo-grid')?.children ?? [])]);
      grid.append(...tiles.map((tile) => document.importNode(tile, true)));
      const added = /** @type {HTMLElement[]} */ ([...grid.children].slice(-tiles.length));
      const position = page.querySelector('.pager p');
      if (position && pager?.querySelector('p')) /** @type {HTMLElement} */ (pager.querySelector('p')).textContent = position.textContent;
      const following = page.querySelector('.pager a[rel=next]');
      // The page's own pager follows along, so a reload or the viewer knows what is left.
      if (following instanceof HTMLAnchorElement) next.href = following.href;
      else {
        next.remove();
        next = null;
        observer.disconnect();
      }
      appended(added);
    } catch (error) {
      console.error('keepsake: the next page of photos did not load', error);
      body.classList.remove('has-endless-grid'); // the pager's links still work
      observer.disconnect();
    } finally {
      loading = false;
    }
  };
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting)) void loadNext();
  }, { rootMargin: '1500px 0px' });
  observer.observe(sentinel);
  // A viewer that reaches the last loaded photo asks for more (see viewer.js).
  grid.addEventListener('keepsake:need-more', () => void loadNext());
}

const RETRIES = 4;

/**
 * An image that failed to load is asked for again after a pause that grows (1, 2, 4, 8 s, with
 * jitter). keepsake answers 503 when a visitor has many photos being made at once; a dead session
 * answers 404, which no retry changes, so after a few tries the image stays as it is.
 * @param {Document} root
 */
function retryBusyImages(root) {
  root.addEventListener(
    'error',
    (event) => {
      const image = event.target;
      if (!(image instanceof HTMLImageElement)) return;
      const tries = Number(image.dataset['retries'] ?? '0');
      if (tries >= RETRIES) return;
      image.dataset['retries'] = String(tries + 1);
      setTimeout(() => {
        // Setting the attributes again (to the same URLs) makes the browser load the image anew:
        // a failed image is not in its list of available images.
        for (const name of ['srcset', 'src']) {
          const value = image.getAttribute(name);
          if (value !== null) image.setAttribute(name, value);
        }
      }, (2 ** tries) * 1000 + Math.random() * 500);
    },
    { capture: true },
  );
}

/** @param {Document} root */
function preventSaving(root) {
  const guarded = 'img, video, .tile-link, .pswp';
  for (const type of ['contextmenu', 'dragstart']) {
    root.addEventListener(
      type,
      (event) => {
        if (event.target instanceof Element && event.target.closest(guarded)) event.preventDefault();
      },
      { capture: true },
    );
  }
}

/**
 * Target row height by viewport width: the same steps as --row-height in gallery.css and
 * ROW_HEIGHTS in photo-tiles.ts, so the server's `sizes` guess matches what is drawn.
 * @param {number} viewportWidth
 */
function targetRowHeight(viewportWidth) {
  if (viewportWidth < 480) return 120;
  if (viewportWidth < 800) return 160;
  if (viewportWidth < 1400) return 220;
  if (viewportWidth < 2200) return 260;
  return 320;
}

/** @param {HTMLElement} tile */
function ratioOf(tile) {
  const link = tile.querySelector('.tile-link');
  const width = Number(link instanceof HTMLElement ? link.dataset['width'] : undefined);
  const height = Number(link instanceof HTMLElement ? link.dataset['height'] : undefined);
  // The catalogue does not probe videos: 16:9 until the grid's <video> has read its metadata.
  if (!(width > 0 && height > 0)) return tile.classList.contains('is-video') ? 16 / 9 : 4 / 3;
  return Math.min(MAX_RATIO, Math.max(MIN_RATIO, width / height));
}

/**
 * Greedy justified rows (as Flickr and Google Photos draw them): add photos to a row until
 * it would be shorter than the target, then keep or drop the last one, whichever lands
 * nearer the target height, and scale the row to fill the width exactly. The last row keeps
 * the target height rather than being stretched.
 * @param {number[]} ratios width / height of each photo
 * @param {number} width the grid's width
 * @param {number} target the wanted row height
 * @returns {{ boxes: { left: number, top: number, width: number, height: number }[], height: number }}
 */
export function justifiedRows(ratios, width, target) {
  /** @type {{ left: number, top: number, width: number, height: number }[]} */
  const boxes = [];
  let top = 0;
  let start = 0;
  while (start < ratios.length) {
    let end = start;
    let sum = 0;
    let height = target;
    let full = false;
    for (; end < ratios.length; end++) {
      const withNext = sum + (ratios[end] ?? 1);
      const heightWith = (width - GAP * (end - start)) / withNext;
      if (heightWith <= target) {
        const heightWithout = end > start ? (width - GAP * (end - start - 1)) / sum : Number.POSITIVE_INFINITY;
        if (heightWithout / target - 1 < 1 - heightWith / target) height = heightWithout;
        else [height, end] = [heightWith, end + 1];
        full = true;
        break;
      }
      sum = withNext;
    }
    placeRow(boxes, ratios.slice(start, end), { top, height: Math.round(height), width: full ? width : undefined });
    top += Math.round(height) + GAP;
    start = end;
  }
  return { boxes, height: Math.max(0, top - GAP) };
}

/**
 * @param {{ left: number, top: number, width: number, height: number }[]} boxes
 * @param {number[]} ratios
 * @param {{ top: number, height: number, width: number | undefined }} row
 */
function placeRow(boxes, ratios, row) {
  // Edges are rounded from the running total so the gaps stay even and a full row ends flush.
  let x = 0;
  ratios.forEach((ratio, index) => {
    const left = Math.round(x);
    x += ratio * row.height;
    const last = index === ratios.length - 1;
    const right = last && row.width !== undefined ? row.width : Math.round(x);
    boxes.push({ left, top: row.top, width: Math.max(1, right - left), height: row.height });
    x += GAP;
  });
}

/** @param {HTMLElement} grid */
function justifyGrid(grid) {
  let tiles = /** @type {HTMLElement[]} */ ([...grid.children]);
  let ratios = tiles.map(ratioOf);
  let laidOutWidth = -1;
  const layout = (force = false) => {
    const width = Math.floor(grid.clientWidth);
    if ((width === laidOutWidth && !force) || width === 0) return;
    laidOutWidth = width;
    const { boxes, height } = justifiedRows(ratios, width, targetRowHeight(window.innerWidth));
    // Sizes are set through the CSSOM, which the CSP allows (style attributes in markup it does not).
    grid.style.height = `${height}px`;
    tiles.forEach((tile, index) => {
      const box = boxes[index];
      if (box === undefined) return;
      Object.assign(tile.style, { left: `${box.left}px`, top: `${box.top}px`, width: `${box.width}px`, height: `${box.height}px` });
      const image = tile.querySelector('img[srcset]');
      // Only images not yet fetched: changing `sizes` on a loaded one could fetch it twice.
      if (image instanceof HTMLImageElement && image.currentSrc === '') image.sizes = `${box.width}px`;
    });
  };
  const watchVideos = (/** @type {ParentNode[]} */ roots) => {
    for (const root of roots) for (const video of root.querySelectorAll('.tile-link video')) watchVideo(video);
  };
  const watchVideo = (/** @type {Element} */ video) => {
    video.addEventListener('loadedmetadata', () => {
      const link = video.closest('.tile-link');
      if (!(link instanceof HTMLElement) || !(video instanceof HTMLVideoElement) || video.videoWidth === 0) return;
      if (link.dataset['width'] === String(video.videoWidth) && link.dataset['height'] === String(video.videoHeight)) return;
      // The viewer reads these too (see viewer.js), so the video opens in its real shape.
      link.dataset['width'] = String(video.videoWidth);
      link.dataset['height'] = String(video.videoHeight);
      ratios = tiles.map(ratioOf);
      layout(true);
    });
  };
  grid.classList.add('is-justified');
  layout();
  new ResizeObserver(() => requestAnimationFrame(() => layout())).observe(grid);
  watchVideos([grid]);
  return {
    add(/** @type {HTMLElement[]} */ added) {
      tiles = /** @type {HTMLElement[]} */ ([...grid.children]);
      ratios = tiles.map(ratioOf);
      watchVideos(added);
      layout(true);
    },
  };
}

/** @param {HTMLElement} grid */
function enableViewer(grid) {
  const modules = {
    viewer: body.dataset['viewerModule'],
    lightbox: body.dataset['lightboxModule'],
    photoswipe: body.dataset['photoswipeModule'],
  };
  if (modules.viewer === undefined || modules.lightbox === undefined || modules.photoswipe === undefined) return Promise.resolve(undefined);
  const { viewer, lightbox, photoswipe } = modules;
  /** @type {Promise<{ open(link: Element): void, refresh(): void }>} */
  const ready = import(viewer).then((module) => module.createViewer(grid, { lightbox, photoswipe }, messages));
  ready.catch((error) => console.error('keepsake: the viewer did not load', error));
  grid.addEventListener('click', (event) => {
    // Modified clicks keep their usual meaning (new tab, and so on).
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target instanceof Element ? event.target.closest('a.tile-link') : null;
    if (!(link instanceof HTMLAnchorElement)) return;
    event.preventDefault();
    ready.then(
      (viewerApi) => viewerApi.open(link),
      () => location.assign(link.href),
    );
  });
  return ready.catch(() => undefined);
}
