export { createKeyring, KeyError, type Keyring, type KeyInput, type LoginOutcome } from './keyring.js';
export { normalisePattern, isAlbumGranted, grantedRoots, PatternError } from './grants.js';
export { generatePassword, hashPassword, verifyPassword } from './passwords.js';
