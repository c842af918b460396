import { ALLOW, refuse, type Decision, type RequestFacts } from './facts.js';

export interface ProbingOptions {
  readonly enabled: boolean;
}

type ProbingFacts = Pick<RequestFacts, 'isMedia' | 'mediaType' | 'method' | 'hasRange'>;

/**
 * A page shows an image with one plain GET. HEAD (is it there, how big?) and Range (a slice of
 * it) on an image are how scrapers size up a gallery before pulling it, so both are refused.
 * Video players need Range to seek, so video keeps both. A media URL of unknown type counts as
 * an image: refusing by default is the safe side.
 */
export function checkProbing(facts: ProbingFacts, options: ProbingOptions): Decision {
  if (!options.enabled || !facts.isMedia || facts.mediaType === 'video') return ALLOW;
  if (facts.method.toUpperCase() === 'HEAD') return refuse('probing', 403, 'HEAD on an image');
  if (facts.hasRange) return refuse('probing', 403, 'Range on an image');
  return ALLOW;
}
