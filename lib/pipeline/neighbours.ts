/**
 * Neighbours rated for free: a domain report rates the IPs the domain resolves to and contacts,
 * and the mapping gives those IP observables that score (domain.ts). They are someone else's
 * observables as much as the enriched one, so SCORE_UPDATE applies to them too: each one's current
 * score is read from OpenCTI (a GraphQL read, no Criminal IP call) and the ledger says whether the
 * connector wrote it. A score that may not be written is left as OpenCTI has it.
 */
import type { ScoreUpdate } from '../config';
import type { StixObject } from '../stix';
import type { OpenCtiPort } from '../opencti/port';
import type { Ledger, WrittenByUs } from './ports';
import { decideScore } from './score-policy';

const IP_TYPES = new Set(['ipv4-addr', 'ipv6-addr']);

export interface RatedNeighbours {
  objects: StixObject[];
  /** What the connector wrote on each neighbour, to remember once the write succeeded. */
  written: Array<[string, WrittenByUs]>;
}

export async function respectNeighbours(
  objects: StixObject[],
  enrichedId: string,
  policy: ScoreUpdate,
  opencti: Pick<OpenCtiPort, 'readObservableState'>,
  ledger: Pick<Ledger, 'getWritten'>,
  now: Date,
): Promise<RatedNeighbours> {
  const written: RatedNeighbours['written'] = [];
  const out: StixObject[] = [];
  for (const object of objects) {
    const score = object.x_opencti_score;
    if (object.id === enrichedId || !IP_TYPES.has(object.type) || typeof score !== 'number') {
      out.push(object);
      continue;
    }
    const state = await opencti.readObservableState(object.id);
    const ours = await ledger.getWritten(object.id);
    const decision = decideScore(policy, score, state?.score, ours?.score);
    const next: StixObject = { ...object };
    if (decision.write === undefined) {
      delete next.x_opencti_score;
    } else {
      written.push([
        object.id,
        {
          ...ours,
          score: decision.write,
          stateLabels: ours?.stateLabels ?? [],
          at: now.toISOString(),
        },
      ]);
    }
    out.push(next);
  }
  return { objects: out, written };
}
