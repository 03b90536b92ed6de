/**
 * The author of everything this product writes: the organization "Criminal IP". Its id is the
 * one OpenCTI computes for that name, so every enrichment points at the same Organization and
 * the official Python connector's objects share it too.
 */
import { organization } from './builders';
import { tlpMarkingId } from './markings';
import type { Identity } from './objects';

/** Fixed so that the author object, and every bundle holding it, is reproducible. */
const AUTHOR_CREATED = new Date('2024-01-01T00:00:00.000Z');

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

export const CRIMINAL_IP_AUTHOR: Identity = deepFreeze(
  organization('Criminal IP', {
    created: AUTHOR_CREATED,
    organizationType: 'vendor',
    description:
      'Criminal IP is a cyber threat intelligence search engine by AI Spera: it scans IP addresses, domains ' +
      'and URLs and scores their risk. Objects authored by this identity come from its data.',
    markingRefs: [tlpMarkingId('TLP:CLEAR')],
    externalReferences: [{ source_name: 'Criminal IP', url: 'https://www.criminalip.io' }],
  }),
);
