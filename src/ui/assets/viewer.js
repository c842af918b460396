// @ts-check
/**
 * The full-screen viewer: PhotoSwipe 5 over the album's tiles (swipe, pinch and double-tap
 * zoom, arrows, Esc, neighbours preloaded). Loaded by gallery.js, which passes the
 * fingerprinted URLs of PhotoSwipe's lightbox and core modules.
 *
 * The address follows the open photo as `#photo=<file name>`: opening pushes a history
 * entry and swiping replaces it, so Back closes the viewer and a reload opens it again.
 * Every word it shows comes from the page (`messages`, the visitor's language).
 */

const HASH_PREFIX = '#photo=';
const HISTORY_MARK = 'keepsakeViewer';
const DOWNLOAD_ICON = '<path d="M20.5 14.3 17.1 18V10h-2.2v7.9l-3.4-3.6L10 16l6 6.1 6-6.1ZM23 23H9v2h14Z" id="pswp__icn-download"/>';

/**
 * @typedef {{ type: 'image' | 'video', src: string, srcset?: string, width: number, height: number,
 *   alt: string, element: HTMLElement, thumbCropped: true, name: string, caption: string, original?: string,
 *   poster?: string, motion?: string, info: [string, string][] }} Slide
 */

/** @type {Record<string, string>} */
let words = {};
/** A word of the page's catalogue (the key itself if the page left it out). */
const say = (/** @type {string} */ key) => words[key] ?? key;

/**
 * @param {HTMLElement} grid
 * @param {{ lightbox: string, photoswipe: string }} modules
 * @param {Record<string, string>} [messages]
 */
export async function createViewer(grid, modules, messages = {}) {
  words = messages;
  const links = /** @type {HTMLAnchorElement[]} */ ([...grid.querySelectorAll('a.tile-link')]);
  const slides = links.map(slideOf);
  const { default: PhotoSwipeLightbox } = await import(modules.lightbox);
  const lightbox = new PhotoSwipeLightbox({
    dataSource: slides,
    pswpModule: () => import(modules.photoswipe),
    showHideAnimationType: 'zoom',
    bgOpacity: 1,
    preload: [1, 2],
    closeTitle: say('viewer.close'),
    zoomTitle: say('viewer.zoom'),
    arrowPrevTitle: say('viewer.previous'),
    arrowNextTitle: say('viewer.next'),
    errorMsg: say('viewer.error'),
    // Focus goes back to the tile of the photo last shown (see returnFocusToTile), not the one first opened.
    returnFocus: false,
  });
  readTileAtOpening(lightbox);
  returnFocusToTile(lightbox);
  playVideosInline(lightbox);
  addControls(lightbox);
  askForMoreNearTheEnd(lightbox, grid, slides);
  const history = followHistory(lightbox, slides, grid);
  lightbox.init();
  history.openFromAddress();
  return {
    open: (/** @type {Element} */ link) => history.open(links.indexOf(/** @type {HTMLAnchorElement} */ (link))),
    /** Tiles were appended (the next page of a big album): they become slides too. */
    refresh() {
      const known = new Set(links);
      for (const link of /** @type {HTMLAnchorElement[]} */ ([...grid.querySelectorAll('a.tile-link')])) {
        if (known.has(link)) continue;
        links.push(link);
        slides.push(slideOf(link));
      }
      lightbox.pswp?.refreshSlideContent?.(lightbox.pswp.currIndex);
      history.openFromAddress({ onlyIfWaiting: true });
    },
  };
}

/**
 * Within a few photos of the last one loaded, the grid is asked for its next page (gallery.js
 * appends it, and `refresh` above makes its tiles slides), so swiping goes on through a big album.
 */
function askForMoreNearTheEnd(/** @type {any} */ lightbox, /** @type {HTMLElement} */ grid, /** @type {Slide[]} */ slides) {
  lightbox.on('change', () => {
    const index = lightbox.pswp?.currIndex ?? 0;
    if (index >= slides.length - 5) grid.dispatchEvent(new CustomEvent('keepsake:need-more'));
  });
}

/** @param {string | undefined} text @returns {[string, string][]} */
function infoOf(text) {
  try {
    const rows = JSON.parse(text ?? '[]');
    return Array.isArray(rows) ? rows.filter((row) => Array.isArray(row) && row.length === 2).map((row) => [String(row[0]), String(row[1])]) : [];
  } catch {
    return []; // unreadable info shows as none
  }
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
    info: infoOf(link.dataset['info']),
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
    note.textContent = say('viewer.preparing');
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
    pswp.element?.setAttribute('aria-label', say('viewer.label'));
    pswp.ui.registerElement({
      name: 'download-button',
      order: 8,
      isButton: true,
      tagName: 'a',
      title: say('viewer.download'),
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
      title: say('viewer.live'),
      html: 'LIVE',
      onInit: (/** @type {HTMLButtonElement} */ element) => playMotion(pswp, element),
    });
    registerSlideshow(pswp);
    registerInfo(pswp);
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
 * A letter key of ours (S, I) while the viewer is open. PhotoSwipe hears keys only once its opening
 * animation has ended, so ours listen on the document from the start; a key typed into a field, or
 * with Ctrl, Alt or Cmd (the browser's own shortcuts), is left alone.
 * @param {any} pswp @param {string} letter @param {() => void} action
 */
function onLetterKey(pswp, letter, action) {
  pswp.events.add(document, 'keydown', (/** @type {KeyboardEvent} */ event) => {
    // (An autofill's keydown carries no key at all.)
    if (event.ctrlKey || event.altKey || event.metaKey || event.key?.toLowerCase() !== letter) return;
    const target = /** @type {Element | null} */ (event.target);
    if (target?.closest?.('input, textarea, [contenteditable]')) return;
    event.preventDefault();
    action();
  });
}

const SLIDESHOW_KEY = 'keepsake.slideshow';
const INTERVALS = [3, 5, 10, 20];
/** Keys a focused select list uses itself. */
const LIST_KEYS = new Set(['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Home', 'End', 'PageUp', 'PageDown', 'Enter', ' ']);

/** The interval chosen before in this browser, else 5 s. */
function storedInterval() {
  try {
    const seconds = Number(localStorage.getItem(SLIDESHOW_KEY));
    return INTERVALS.includes(seconds) ? seconds : 5;
  } catch {
    return 5; // storage unreadable: the default
  }
}

/**
 * The slideshow: play/pause (the button, or S), an interval (remembered in this browser), and it
 * loops from the last photo to the first. A video plays to its end before the next slide. While it
 * plays the screen is kept awake where the browser offers the Wake Lock API; pausing, closing or
 * hiding the page stops it.
 * @param {any} pswp
 */
function registerSlideshow(pswp) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let playing = false;
  let seconds = storedInterval();
  /** @type {any} */
  let wakeLock;
  /** @type {HTMLButtonElement | undefined} */
  let button;
  const keepAwake = async () => {
    try {
      wakeLock = await /** @type {any} */ (navigator).wakeLock?.request('screen');
    } catch {
      wakeLock = undefined; // refused (battery saver, no permission): the show goes on without it
    }
  };
  const schedule = () => {
    clearTimeout(timer);
    if (!playing) return;
    const video = pswp.currSlide?.content?.element?.querySelector?.('video');
    if (video instanceof HTMLVideoElement) {
      void video.play().catch(() => undefined);
      video.addEventListener('ended', advance, { once: true });
      return;
    }
    timer = setTimeout(advance, seconds * 1000);
  };
  const advance = () => {
    if (!playing) return;
    // next() wraps around from the last slide when loop is on (PhotoSwipe's default).
    pswp.next();
  };
  const show = () => {
    if (!button) return;
    button.setAttribute('aria-pressed', String(playing));
    button.title = say(playing ? 'viewer.pause' : 'viewer.play');
    button.setAttribute('aria-label', button.title);
    button.textContent = playing ? '❚❚' : '▶';
  };
  const set = (/** @type {boolean} */ on) => {
    playing = on;
    show();
    if (on) void keepAwake();
    else {
      clearTimeout(timer);
      void wakeLock?.release?.().catch(() => undefined);
      wakeLock = undefined;
    }
    schedule();
  };
  pswp.ui.registerElement({
    name: 'slideshow-button',
    order: 6,
    isButton: true,
    html: '▶',
    onInit: (/** @type {HTMLButtonElement} */ element) => {
      button = element;
      show();
      element.addEventListener('click', () => set(!playing));
    },
  });
  pswp.ui.registerElement({
    name: 'slideshow-interval',
    order: 5,
    isButton: false,
    tagName: 'select',
    onInit: (/** @type {HTMLSelectElement} */ element) => {
      element.className = 'pswp__slideshow-interval';
      element.setAttribute('aria-label', say('viewer.interval'));
      element.title = say('viewer.interval');
      for (const value of INTERVALS) element.append(new Option(`${value} s`, String(value), false, value === seconds));
      element.addEventListener('change', () => {
        seconds = Number(element.value);
        try {
          localStorage.setItem(SLIDESHOW_KEY, String(seconds));
        } catch {
          // not remembered; it still applies now
        }
        schedule();
      });
      // The list's own keys must not also move the viewer; S, I and Esc still reach it.
      element.addEventListener('keydown', (event) => {
        if (LIST_KEYS.has(event.key)) event.stopPropagation();
      });
    },
  });
  pswp.on('change', schedule);
  onLetterKey(pswp, 's', () => set(!playing));
  const onHidden = () => {
    if (document.hidden && playing) set(false);
  };
  document.addEventListener('visibilitychange', onHidden);
  pswp.on('close', () => {
    set(false);
    document.removeEventListener('visibilitychange', onHidden);
  });
}

/**
 * Photo info (the button, or I): what the page's allow-list gave for this photo, as a list of
 * label and value; it stays open while swiping, so it follows the photo shown.
 * @param {any} pswp
 */
function registerInfo(pswp) {
  const panel = document.createElement('section');
  panel.className = 'pswp__info';
  panel.id = 'pswp-info';
  panel.hidden = true;
  /** @type {HTMLButtonElement | undefined} */
  let button;
  const fill = () => {
    const rows = /** @type {Slide | undefined} */ (pswp.currSlide?.data)?.info ?? [];
    const heading = document.createElement('h2');
    heading.textContent = say('viewer.infoTitle');
    const list = document.createElement('dl');
    for (const [label, value] of rows) {
      const term = document.createElement('dt');
      term.textContent = label;
      const detail = document.createElement('dd');
      detail.textContent = value;
      list.append(term, detail);
    }
    const none = document.createElement('p');
    none.textContent = say('viewer.infoNone');
    panel.replaceChildren(heading, rows.length === 0 ? none : list);
  };
  const toggle = (/** @type {boolean} */ open) => {
    panel.hidden = !open;
    button?.setAttribute('aria-expanded', String(open));
    if (open) fill();
  };
  pswp.ui.registerElement({
    name: 'info-button',
    order: 7,
    isButton: true,
    title: say('viewer.info'),
    html: 'i',
    onInit: (/** @type {HTMLButtonElement} */ element) => {
      button = element;
      element.setAttribute('aria-controls', panel.id);
      element.setAttribute('aria-expanded', 'false');
      element.setAttribute('aria-label', say('viewer.info'));
      element.addEventListener('click', () => toggle(panel.hidden));
      pswp.element?.append(panel);
    },
  });
  pswp.on('change', () => {
    if (!panel.hidden) fill();
  });
  onLetterKey(pswp, 'i', () => toggle(panel.hidden));
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
 * @param {HTMLElement} grid
 */
function followHistory(lightbox, slides, grid) {
  let isOpen = false;
  let waiting = false;
  /** The grid has pages not loaded yet (gallery.js removes the pager's next link when it has them all). */
  const morePages = () => document.body.classList.contains('has-endless-grid') && Boolean(grid.parentElement?.querySelector('.pager a[rel=next]'));
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
    /**
     * After a reload or from a pasted address: open the named photo, with Back closing it. A photo
     * on a later page of a big album is waited for while the grid loads its pages.
     */
    openFromAddress({ onlyIfWaiting = false } = {}) {
      if (onlyIfWaiting && !waiting) return;
      const name = nameInAddress();
      if (name === null || isOpen) return;
      const index = indexOfName(name);
      if (index < 0) {
        waiting = morePages();
        if (waiting) grid.dispatchEvent(new CustomEvent('keepsake:need-more'));
        else history.replaceState(null, '', addressWithoutPhoto());
        return;
      }
      waiting = false;
      if (!isOurEntry()) {
        history.replaceState(null, '', addressWithoutPhoto());
        history.pushState({ [HISTORY_MARK]: true }, '', addressOf(index));
      }
      show(index);
    },
  };
}
