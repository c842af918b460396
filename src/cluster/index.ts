export { createLinkFollower, LINK_CHANNEL, type LinkFollower } from './link-follower.js';
export { startLeadership, type Leadership } from './leader.js';
