/**
 * Whether an enrichment may write its score over the one the observable has (SCORE_UPDATE).
 *
 * OpenCTI itself replaces a score whenever the connector's confidence allows (docs: upsert
 * rules), so a score an analyst set would be lowered by any later enrichment. The decision is
 * therefore taken here, before the bundle is built, from who wrote the current score: the ledger
 * remembers the last score the connector wrote on each observable.
 *
 * - own (default): any score may be raised; a score may be lowered only when it is the one the
 *   connector wrote itself (the verdict improved); a score someone else set is never lowered.
 * - replace: Criminal IP's score is always written.
 * - raise: no score is ever lowered, whoever wrote it.
 * - keep: an existing score is never changed; only an observable without a score gets one.
 */
import type { ScoreUpdate } from '../config';

export interface ScoreDecision {
  /** The score to write, or undefined to leave the observable's score as it is. */
  write?: number;
  /** Why, for the work's message and the logs. */
  reason: string;
}

export function decideScore(
  policy: ScoreUpdate,
  incoming: number | undefined,
  current: number | undefined,
  lastWrittenByUs: number | undefined,
): ScoreDecision {
  if (incoming === undefined) return { reason: 'Criminal IP gave no score' };
  if (current === undefined) return { write: incoming, reason: 'the observable had no score' };
  if (incoming === current) return { write: incoming, reason: 'unchanged' };
  switch (policy) {
    case 'replace':
      return { write: incoming, reason: 'SCORE_UPDATE=replace' };
    case 'keep':
      return { reason: `kept ${current} (SCORE_UPDATE=keep)` };
    case 'raise':
      return incoming > current
        ? { write: incoming, reason: 'raised' }
        : { reason: `kept ${current}: SCORE_UPDATE=raise never lowers a score` };
    case 'own':
      if (incoming > current) return { write: incoming, reason: 'raised' };
      return lastWrittenByUs === current
        ? { write: incoming, reason: `lowered the connector's own score ${current}` }
        : { reason: `kept ${current}: set by someone else, never lowered` };
  }
}
