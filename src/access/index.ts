export { DeviceError, ENROLMENT_CODE_PATTERN, isDeviceName, ONLINE_WITHIN_MS, type DeviceEntry, type EnrolmentCheck } from './devices.js';
export { AccessError, createAccess, type Access, type AccessDeps, type LoginResult, type NewShare, type OpenedSession, type ShareCheck } from './access.js';
