/*
 * Every word keepsake shows a visitor, in English: the reference catalogue. Each other language
 * is a file beside this one with the same keys (the type checker refuses a missing one).
 * `{name}` marks a value filled in when shown; a message with `one`/`other` forms is chosen by
 * Intl.PluralRules for its `{count}` (languages with more forms add them: `few`, `many`).
 */
export const en = {
  'language.name': 'English',

  // The page shell
  'site.account': 'Account',
  'site.places': 'Places',
  'site.timeline': 'Timeline',
  'site.device': 'This device',
  'site.logout': 'Log out',
  'site.preferences': 'Display',
  'site.language': 'Language',
  'site.theme': 'Theme',
  'site.theme.system': 'As the device',
  'site.theme.light': 'Light',
  'site.theme.dark': 'Dark',
  'site.save': 'Apply',

  // Logging in
  'login.pageTitle': 'Log in',
  'login.title': 'Family photos',
  'login.lead': 'Type the password you were given to open the albums.',
  'login.password': 'Password',
  'login.remember': 'Remember me on this device',
  'login.submit': 'Open the gallery',
  'login.rejected': 'That password is not right. Check it and try again.',
  'login.expired': 'That password has expired. Ask whoever shared it for a new one.',
  'login.crossSite': 'This form must be sent from the gallery itself.',
  'login.tooMany': 'Too many tries. Wait {wait} and try again.',
  'login.busy': 'Many people are logging in at once. Wait a moment and try again.',
  'wait.seconds': { one: '{count} second', other: '{count} seconds' },
  'wait.minutes': { one: '{count} minute', other: '{count} minutes' },

  // Albums
  'albums.title': 'Albums',
  'albums.emptyTitle': 'No albums yet',
  'albums.emptyText':
    'There is nothing to see here yet. Whoever runs this gallery adds albums by putting folders of photos into its media folder; they appear here by themselves.',
  'albums.photos': { one: '{count} photo', other: '{count} photos' },
  'albums.albums': { one: '{count} album', other: '{count} albums' },
  'albums.new': 'New',
  'album.breadcrumbs': 'Breadcrumbs',
  'album.subAlbums': 'Albums',
  'album.photos': 'Photos',
  'album.empty': 'This album is empty.',
  'album.sort': 'Sort',
  'album.sort.newest': 'Newest first',
  'album.sort.oldest': 'Oldest first',
  'album.sort.nameAsc': 'Name, A to Z',
  'album.sort.nameDesc': 'Name, Z to A',
  'album.download': 'Download the album',
  'album.downloadOriginals': 'As taken, in full size (ZIP)',
  'album.downloadLarge': 'Large copies (ZIP)',
  'album.pages': 'Pages',
  'album.previousPage': 'Previous photos',
  'album.nextPage': 'More photos',
  'album.pageOf': 'Photos {from}–{to} of {total}',
  'tile.missing': '{name} (not available)',
  'tile.video': '{name} (video)',
  'tile.live': 'LIVE',

  // The timeline
  'timeline.title': 'Timeline',
  'timeline.empty': 'None of the photos here has a date yet.',
  'timeline.years': 'Years and months',
  'timeline.month': '{month}',

  // Places
  'places.title': 'Places',
  'places.empty': 'None of the photos here says where it was taken.',
  'places.near': 'near {place}',

  // Photo info (the viewer's panel)
  'info.taken': 'Taken',
  'info.camera': 'Camera',
  'info.lens': 'Lens',
  'info.exposure': 'Exposure',
  'info.dimensions': 'Size',
  'info.dimensionsValue': '{width} × {height} pixels',
  'info.focal35': '{value} mm (35 mm equivalent)',

  // The viewer
  'viewer.label': 'Photo viewer',
  'viewer.close': 'Close (Esc)',
  'viewer.zoom': 'Zoom (Z)',
  'viewer.previous': 'Previous (left arrow)',
  'viewer.next': 'Next (right arrow)',
  'viewer.error': 'This photo could not be loaded. If you logged out or the session ended, reload the page.',
  'viewer.download': 'Download the original',
  'viewer.live': 'Play the Live Photo (hold, or hover)',
  'viewer.preparing': 'This video is still being prepared. It will play in a moment.',
  'viewer.play': 'Play the slideshow (S)',
  'viewer.pause': 'Pause the slideshow (S)',
  'viewer.interval': 'Seconds per photo',
  'viewer.info': 'Photo info (I)',
  'viewer.infoTitle': 'Photo info',
  'viewer.infoNone': 'Nothing more is known about this photo.',

  // This device
  'device.title': 'This device',
  'device.lead': 'Give this device a name, such as “Grandma’s iPad”. The family’s admin then sees it by that name and can sign it out on its own.',
  'device.saved': 'Saved. This device is now “{name}”.',
  'device.field': 'Remember this device as',
  'device.save': 'Save',
  'device.back': 'Back to the albums',
  'device.badName': "Use up to 64 letters, digits, spaces and ' . _ -, starting with a letter or digit.",

  // One-time links: shares, device cards, the admin's preview
  'card.open': 'Open the album',
  'card.openHere': 'Open it from this site.',
  'share.title': 'Photos shared with you',
  'share.until': 'An album was shared with you until {date}.',
  'share.invalidTitle': 'This link is not valid',
  'share.invalidText': 'Check that the whole link was copied, or ask whoever sent it for a new one.',
  'share.closedTitle': 'This link has closed',
  'share.closedText': 'It has expired, been used up or been withdrawn. Ask whoever sent it for a new one.',
  'enrol.title': 'Photos for {label}',
  'enrol.text': 'This card opens the family’s photos on this device, “{label}”, once. Press the button on the device that should keep them.',
  'enrol.button': 'Open the gallery on this device',
  'enrol.unknownTitle': 'This card is not valid',
  'enrol.unknownText': 'Check that the whole link was copied, or ask the family’s admin for a new card.',
  'enrol.usedTitle': 'This card has been used',
  'enrol.usedText': 'It opens the gallery on one device only, and already has. Ask the family’s admin for a new card.',
  'enrol.expiredTitle': 'This card has expired',
  'enrol.expiredText': 'Ask the family’s admin for a new card.',
  'enrol.notAllowedTitle': 'Not allowed',
  'enrol.notAllowedText': 'Log in on this site first.',
  'review.title': 'Review new albums',
  'review.text': 'This link opens a preview of every album, those waiting for review too, for an hour, once.',
  'review.button': 'Preview the albums waiting for review',
  'review.notHereTitle': 'Not here',
  'review.notHereText': 'A preview opens only on the machine keepsake runs on (127.0.0.1).',
  'review.closedTitle': 'This preview link has closed',
  'review.closedText': 'It works once, for 15 minutes. Run keepsake review --serve for a new one.',

  // Errors
  'error.notFoundTitle': 'Not here',
  'error.notFoundText': 'There is nothing at this address, or it is not yours to see.',
  'error.back': 'Back to the albums',
} as const;
