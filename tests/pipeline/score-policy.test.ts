import { decideScore } from '../../lib/pipeline/score-policy';
import type { ScoreUpdate } from '../../lib/config';

describe('decideScore (SCORE_UPDATE)', () => {
  // [policy, incoming, current, last written by the connector, score written (undefined: kept)]
  it.each<[ScoreUpdate, number, number | undefined, number | undefined, number | undefined]>([
    ['own', 95, undefined, undefined, 95], // no score yet
    ['own', 95, 40, undefined, 95], // raising is always allowed
    ['own', 10, 95, 95, 10], // lowering its own score: the verdict improved
    ['own', 10, 80, 95, undefined], // someone changed it since: never lowered
    ['own', 95, 100, undefined, undefined], // "100 became 95" no more
    ['replace', 10, 100, undefined, 10],
    ['raise', 10, 95, 95, undefined], // never lowers, even its own
    ['raise', 95, 40, undefined, 95],
    ['keep', 95, 40, 40, undefined],
    ['keep', 95, undefined, undefined, 95],
  ])('%s: incoming %i over %s (ours %s) writes %s', (policy, incoming, current, ours, expected) => {
    expect(decideScore(policy, incoming, current, ours).write).toBe(expected);
  });

  it('writes nothing when Criminal IP gave no score', () => {
    expect(decideScore('replace', undefined, 50, 50)).toEqual({ reason: 'Criminal IP gave no score' });
  });
});
