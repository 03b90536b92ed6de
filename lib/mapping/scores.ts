/**
 * Criminal IP's score vocabulary and how it becomes an OpenCTI score (0-100).
 *
 * Criminal IP rates with five words, written differently per endpoint: "Critical" in IP reports,
 * "low" in domain reports, "20% (Safe)" in lite reports, integers 1-5 in the legacy IP endpoint.
 * All of them are read here into one `ScoreWord`; the configured word → number table
 * (`MappingSettings.scoreWords`) turns a word into x_opencti_score.
 */
import type { MappingSettings, ScoreWord } from '../config';
import { num } from './read';

// Score words and lite percentages are read by lib/criminalip, which the client shares.
export { scorePercent as scorePercentage, scoreWord } from '../criminalip/parse';

/** A probability expressed 0-100 (Criminal IP's url_phishing_prob), clamped; undefined if absent. */
export function probability(value: unknown): number | undefined {
  const n = num(value);
  if (n === undefined || n < 0) return undefined;
  return Math.min(n, 100);
}

export function wordScore(word: ScoreWord, settings: MappingSettings): number {
  return settings.scoreWords[word];
}

/** A word with its configured score. */
export interface RatedWord {
  word: ScoreWord;
  score: number;
}

export function rate(word: ScoreWord | undefined, settings: MappingSettings): RatedWord | undefined {
  return word ? { word, score: wordScore(word, settings) } : undefined;
}

/**
 * Applies the score policy to an IP's inbound and outbound ratings. `inbound`/`outbound` use only
 * that direction, and fall back to the other one when Criminal IP gave only the other; `max` takes
 * the higher score.
 */
export function applyPolicy(
  inbound: RatedWord | undefined,
  outbound: RatedWord | undefined,
  policy: MappingSettings['scorePolicy'],
): RatedWord | undefined {
  if (policy === 'inbound') return inbound ?? outbound;
  if (policy === 'outbound') return outbound ?? inbound;
  if (!inbound) return outbound;
  if (!outbound) return inbound;
  return outbound.score > inbound.score ? outbound : inbound;
}

/** Does the score reach the configured indicator threshold word? */
export function reachesThreshold(score: number | undefined, settings: MappingSettings): boolean {
  return score !== undefined && score >= wordScore(settings.indicatorThreshold, settings);
}
