export { createLinkFollower, LINK_CHANNEL, type LinkFollower } from './link-follower.js';
export { startLeadership, type Leadership } from './leader.js';
export { copyCatalogue, startCatalogueSync, type CatalogueSide, type CatalogueSync } from './catalogue-sync.js';
export { createSharedCatalogue, type SharedCatalogue } from './shared-catalogue.js';
