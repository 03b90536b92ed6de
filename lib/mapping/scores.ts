/**
 * Criminal IP's score vocabulary and how it becomes an OpenCTI score (0-100).
 *
 * Criminal IP rates with five words, written differently per endpoint: "Critical" in IP reports,
 * "low" in domain reports, "20% (Safe)" in lite reports, integers 1-5 in the legacy IP endpoint.
 * All of them are read here into one `ScoreWord`; the configured word → number table
 * (`MappingSettings.scoreWords`) turns a word into x_opencti_score.
 */
import { SCORE_WORDS, type MappingSettings, type ScoreWord } from '../config';
import { num, str } from './read';

/** Reads a score word from any of Criminal IP's spellings; undefined when it is none of them. */
export function scoreWord(value: unknown): ScoreWord | undefined {
  if (typeof value === 'number') {
    // Legacy /v1/ip/data: 1 Safe … 5 Critical.
    return Number.isInteger(value) && value >= 1 && value <= 5 ? SCORE_WORDS[value - 1] : undefined;
  }
  const text = str(value)?.toLowerCase();
  if (!text) return undefined;
  const word = /\(([a-z]+)\)\s*$/.exec(text)?.[1] ?? text;
  return (SCORE_WORDS as readonly string[]).includes(word) ? (word as ScoreWord) : undefined;
}

/** The percentage in a lite report's "20% (Safe)", when there is one. */
export function scorePercentage(value: unknown): number | undefined {
  const match = /^\s*(\d{1,3}(?:\.\d+)?)\s*%/.exec(typeof value === 'string' ? value : '');
  const n = match ? Number(match[1]) : undefined;
  return n !== undefined && n <= 100 ? n : undefined;
}

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
