// @ts-check
/**
 * The full-screen viewer: PhotoSwipe 5 over the album's tiles (swipe, pinch and double-tap
 * zoom, arrows, Esc, neighbours preloaded). Loaded by gallery.js, which passes the
 * fingerprinted URLs of PhotoSwipe's lightbox and core modules.
 *
 * The address follows the open photo as `#photo=<file name>`: opening pushes a history
 * entry and swiping replaces it, so Back closes the viewer and a reload opens it again.
 */

const HASH_PREFIX = '#photo=';
const HISTORY_MARK = 'keepsakeViewer';
const DOWNLOAD_ICON = '<path d="M20.5 14.3 17.1 18V10h-2.2v7.9l-3.4-3.6L10 16l6 6.1 6-6.1ZM23 23H9v2h14Z" id="pswp__icn-download"/>';

/**
 * @typedef {{ type: 'image' | 'video', src: string, srcset?: string, width: number, height: number,
 *   alt: string, element: HTMLElement, thumbCropped: true, name: string, caption: string, original?: string,
 *   poster?: string, motion?: string }} Slide
 */

/**
 * @param {HTMLElement} grid
 * @param {{ lightbox: string, photoswipe: string }} modules
 */
export async function createViewer(grid, modules) {
  const links = /** @type {HTMLAnchorElement[]} */ ([...grid.querySelectorAll('a.tile-link')]);
  const slides = links.map(slideOf);
  const { default: PhotoSwipeLightbox } = await import(modules.lightbox);
  const lightbox = new PhotoSwipeLightbox({
    dataSource: slides,
    pswpModule: () => import(modules.photoswipe),
    showHideAnimationType: 'zoom',
    bgOpacity: 1,
    preload: [1, 2],
    closeTitle: 'Close (Esc)',
    zoomTitle: 'Zoom (Z)',
    arrowPrevTitle: 'Previous (left arrow)',
    arrowNextTitle: 'Next (right arrow)',
    errorMsg: 'This photo could not be loaded. If you logged out or the session ended, reload the page.',
    // Focus goes back to the tile of the photo last shown (see returnFocusToTile), not the one first opened.
    returnFocus: false,
  });
  readTileAtOpening(lightbox);
  returnFocusToTile(lightbox);
  playVideosInline(lightbox);
  addControls(lightbox);
  const history = followHistory(lightbox, slides);
  lightbox.init();
  history.openFromAddress();
  return { open: (/** @type {Element} */ link) => history.open(links.indexOf(/** @type {HTMLAnchorElement} */ (link))) };
}

/** @param {HTMLAnchorElement} link @returns {Slide} */
function slideOf(link) {
  const image = link.querySelector('img');
  const isVideo = link.dataset['type'] === 'video';
  const srcset = isVideo ? undefined : (image?.getAttribute('srcset') ?? undefined);
  const original = link.dataset['original'];
  const poster = link.dataset['poster'];
  const motion = link.dataset['motion'];
  return {
    type: isVideo ? 'video' : 'image',
    src: link.getAttribute('href') ?? '',
    ...(srcset ? { srcset } : {}),
    width: Number(link.dataset['width']) || (isVideo ? 1280 : 1600),
    height: Number(link.dataset['height']) || (isVideo ? 720 : 1200),
    // A video tile's poster image is decorative: the link's text names the video.
    alt: (isVideo ? link.textContent?.replace(/\s+/g, ' ').trim() : image?.alt) ?? '',
    element: link,
    thumbCropped: true,
    name: link.dataset['name'] ?? '',
    caption: link.dataset['caption'] ?? '',
    ...(original ? { original } : {}),
    ...(poster ? { poster } : {}),
    ...(motion ? { motion } : {}),
  };
}

/**
 * Read at opening time: the grid's already-loaded image is the placeholder while the larger
 * one arrives, and a video's size is known once the grid has read its metadata.
 */
function readTileAtOpening(/** @type {any} */ lightbox) {
  lightbox.addFilter('itemData', (/** @type {Slide} */ data) => {
    const image = data.element.querySelector('img');
    const width = Number(data.element.dataset['width']);
    const height = Number(data.element.dataset['height']);
    return {
      ...data,
      ...(width > 0 && height > 0 ? { width, height } : {}),
      ...(image?.complete && image.currentSrc ? { msrc: image.currentSrc } : {}),
    };
  });
}

/**
 * On closing, keyboard focus lands on the tile of the photo last shown, which also scrolls the
 * grid to it: after swiping through an album the visitor is where they stopped.
 */
function returnFocusToTile(/** @type {any} */ lightbox) {
  /** @type {HTMLElement | undefined} */
  let shown;
  lightbox.on('change', () => {
    shown = lightbox.pswp?.currSlide?.data.element;
  });
  lightbox.on('destroy', () => {
    // 'destroy' comes before PhotoSwipe removes its element and its focus trap: act just after.
    setTimeout(() => {
      const active = document.activeElement;
      if (shown?.isConnected && (active === null || active === document.body)) shown.focus();
    });
  });
}

/** How often, and how many times, a video whose playable copy is still being made is asked for again. */
const COPY_RETRY_MS = 10_000;
const COPY_RETRIES = 30;

/**
 * A video's playable copy may still be being made (the server answers 503 after a while): say so
 * on the slide and ask again every few seconds, for a few minutes, until it plays.
 */
function retryWhileBeingMade(/** @type {HTMLVideoElement} */ video, /** @type {HTMLElement} */ frame) {
  let tries = 0;
  const note = document.createElement('p');
  note.className = 'pswp__video-note';
  note.setAttribute('role', 'status');
  video.addEventListener('error', () => {
    if (tries >= COPY_RETRIES || !video.isConnected) return;
    tries += 1;
    note.textContent = 'This video is still being prepared. It will play in a moment.';
    if (!note.isConnected) frame.append(note);
    const source = video.currentSrc || video.src;
    setTimeout(() => {
      if (!video.isConnected) return;
      video.src = source;
      video.load();
    }, COPY_RETRY_MS);
  });
  video.addEventListener('loadedmetadata', () => note.remove());
}

/** Videos get a slide of their own: a native <video> with controls, paused when swiped away. */
function playVideosInline(/** @type {any} */ lightbox) {
  lightbox.on('contentLoad', (/** @type {any} */ event) => {
    const { content } = event;
    if (content.type !== 'video') return;
    event.preventDefault();
    const frame = document.createElement('div');
    frame.className = 'pswp__content pswp__video';
    const video = document.createElement('video');
    video.src = content.data.src;
    video.controls = true;
    video.playsInline = true;
    video.preload = 'metadata';
    if (content.data.poster) video.poster = content.data.poster;
    video.setAttribute('aria-label', content.data.alt);
    frame.append(video);
    retryWhileBeingMade(video, frame);
    content.element = frame;
  });
  lightbox.on('contentDeactivate', (/** @type {any} */ { content }) => content.element?.querySelector?.('video')?.pause());
  // A press on the native controls must not start PhotoSwipe's drag.
  lightbox.on('pointerDown', (/** @type {any} */ event) => {
    const target = event.originalEvent.target;
    if (!(target instanceof HTMLVideoElement)) return;
    if (event.originalEvent.clientY > target.getBoundingClientRect().bottom - 72) event.preventDefault();
  });
}

/** A download button, shown only where the key allows originals, and a caption. */
function addControls(/** @type {any} */ lightbox) {
  lightbox.on('uiRegister', () => {
    const { pswp } = lightbox;
    pswp.element?.setAttribute('aria-label', 'Photo viewer');
    pswp.ui.registerElement({
      name: 'download-button',
      order: 8,
      isButton: true,
      tagName: 'a',
      title: 'Download the original',
      html: { isCustomSVG: true, inner: DOWNLOAD_ICON, outlineID: 'pswp__icn-download' },
      onInit: (/** @type {HTMLAnchorElement} */ element) => {
        element.setAttribute('download', '');
        const update = () => {
          const original = pswp.currSlide?.data.original;
          element.hidden = !original;
          if (original) element.href = original;
          else element.removeAttribute('href');
        };
        pswp.on('change', update);
        update();
      },
    });
    pswp.ui.registerElement({
      name: 'live-button',
      order: 7,
      isButton: true,
      title: 'Play the Live Photo (hold, or hover)',
      html: 'LIVE',
      onInit: (/** @type {HTMLButtonElement} */ element) => playMotion(pswp, element),
    });
    pswp.ui.registerElement({
      name: 'caption',
      order: 9,
      isButton: false,
      appendTo: 'root',
      onInit: (/** @type {HTMLElement} */ element) => {
        element.setAttribute('aria-live', 'polite');
        const update = () => {
          element.textContent = pswp.currSlide?.data.caption ?? '';
        };
        pswp.on('change', update);
        update();
      },
    });
  });
}

/**
 * A Live Photo's motion plays over its photo while the LIVE button is held or hovered (or after
 * a press of Enter or Space, until it ends), muted and inline, then the photo shows again.
 * @param {any} pswp @param {HTMLButtonElement} button
 */
function playMotion(pswp, button) {
  /** @type {HTMLVideoElement | undefined} */
  let playing;
  const stop = () => {
    playing?.pause();
    playing?.remove();
    playing = undefined;
    button.setAttribute('aria-pressed', 'false');
  };
  const start = () => {
    const slide = pswp.currSlide;
    const motion = slide?.data.motion;
    const image = slide?.container?.querySelector('img.pswp__img');
    if (!motion || !image || playing) return;
    const video = document.createElement('video');
    video.className = 'pswp__motion';
    video.src = motion;
    video.muted = true;
    video.playsInline = true;
    video.style.width = image.style.width;
    video.style.height = image.style.height;
    video.addEventListener('ended', stop);
    slide.container.append(video);
    playing = video;
    button.setAttribute('aria-pressed', 'true');
    void video.play().catch(stop);
  };
  const update = () => {
    stop();
    button.hidden = !pswp.currSlide?.data.motion;
  };
  button.setAttribute('aria-pressed', 'false');
  button.addEventListener('pointerenter', start);
  button.addEventListener('pointerdown', start);
  button.addEventListener('pointerleave', stop);
  button.addEventListener('pointerup', (event) => {
    if (event.pointerType !== 'mouse') stop();
  });
  button.addEventListener('click', (event) => {
    // Pointer presses are handled above; a click from the keyboard starts it until it ends.
    if (event.detail === 0) start();
  });
  pswp.on('change', update);
  pswp.on('close', stop);
  update();
}

function nameInAddress() {
  if (!location.hash.startsWith(HASH_PREFIX)) return null;
  try {
    return decodeURIComponent(location.hash.slice(HASH_PREFIX.length));
  } catch {
    return null; // a malformed hash opens nothing
  }
}

/**
 * @param {any} lightbox
 * @param {Slide[]} slides
 */
function followHistory(lightbox, slides) {
  let isOpen = false;
  let closingFromHistory = false;
  const addressOf = (/** @type {number} */ index) => HASH_PREFIX + encodeURIComponent(slides[index]?.name ?? '');
  const addressWithoutPhoto = () => location.pathname + location.search;
  const indexOfName = (/** @type {string | null} */ name) => (name === null ? -1 : slides.findIndex((slide) => slide.name === name));
  const isOurEntry = () => Boolean(history.state && history.state[HISTORY_MARK]);
  const show = (/** @type {number} */ index) => {
    isOpen = true;
    lightbox.loadAndOpen(index);
  };

  lightbox.on('change', () => {
    if (isOpen && lightbox.pswp) history.replaceState(history.state, '', addressOf(lightbox.pswp.currIndex));
  });
  lightbox.on('close', () => {
    isOpen = false;
    if (closingFromHistory) closingFromHistory = false;
    else if (isOurEntry()) history.back();
    else history.replaceState(null, '', addressWithoutPhoto());
  });
  const closeFromHistory = () => {
    closingFromHistory = true;
    lightbox.pswp?.close();
  };
  // PhotoSwipe ignores close() while it is still opening: an Esc or a Back that early is honoured here.
  let escapeWhileOpening = false;
  document.addEventListener('keydown', (event) => {
    // PhotoSwipe listens for keys only once its opening animation has ended.
    if (event.key === 'Escape' && isOpen && !lightbox.pswp?.opener.isOpen) escapeWhileOpening = true;
  });
  lightbox.on('openingAnimationEnd', () => {
    // After PhotoSwipe's own handlers of this event, which bind the keys and the focus trap.
    setTimeout(() => {
      if (isOpen && indexOfName(nameInAddress()) < 0) closeFromHistory();
      else if (escapeWhileOpening) lightbox.pswp?.close();
      escapeWhileOpening = false;
    });
  });
  window.addEventListener('popstate', () => {
    const index = indexOfName(nameInAddress());
    const pswp = lightbox.pswp;
    if (index < 0 && isOpen) {
      if (pswp?.opener.isOpen) closeFromHistory();
    } else if (index >= 0 && !isOpen) show(index);
    else if (index >= 0 && pswp && pswp.currIndex !== index) pswp.goTo(index);
  });

  return {
    open(/** @type {number} */ index) {
      if (index < 0 || isOpen) return;
      history.pushState({ [HISTORY_MARK]: true }, '', addressOf(index));
      show(index);
    },
    /** After a reload or from a pasted address: open the named photo, with Back closing it. */
    openFromAddress() {
      const name = nameInAddress();
      if (name === null) return;
      const index = indexOfName(name);
      if (index < 0) {
        history.replaceState(null, '', addressWithoutPhoto());
        return;
      }
      if (!isOurEntry()) {
        history.replaceState(null, '', addressWithoutPhoto());
        history.pushState({ [HISTORY_MARK]: true }, '', addressOf(index));
      }
      show(index);
    },
  };
}
