export { AccessError, createAccess, type Access, type AccessDeps, type LoginResult, type NewShare, type OpenedSession, type ShareCheck } from './access.js';
