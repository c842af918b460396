export { createKeyring, KeyError, type Keyring, type KeyInput, type KeyringOptions, type LoginOutcome } from './keyring.js';
export { createHashGate, LoginBusyError, type HashGate, type HashGateOptions } from './hash-gate.js';
export { canSeeAlbum, grantedRoots, isAlbumGranted, normalisePattern, PatternError, type AlbumPlace } from './grants.js';
export { generatePassword, hashPassword, verifyPassword } from './passwords.js';
export { CITY_DEGREES, isLocationPolicy, LOCATION_POLICIES, placeFor, type LocationPolicy, type Place } from './location-policy.js';
