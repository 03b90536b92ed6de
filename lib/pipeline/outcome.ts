/**
 * What became of one job. The consumer acts on it: `written` and `skipped` are done,
 * `retry-later` is sent back to the queue with a delay (and the original acknowledged),
 * `failed` with `permanent: true` is done (the error is on the OpenCTI work), and a transient
 * failure is thrown instead so that the queue redelivers it and, in the end, dead-letters it.
 */
import type { EnrichmentJob } from '../jobs/types';

export type SkipReason =
  | 'out-of-scope'
  | 'above-max-tlp'
  | 'duplicate-delivery'
  | 'not-found'
  | 'invalid-target'
  /** Enriched within the freshness window: an automatic update echo, nothing to do. */
  | 'fresh'
  /** The connector's Criminal IP budget is spent (an analyst's request, answered at once). */
  | 'budget-reached';

export type JobOutcome =
  | {
      kind: 'written';
      /** Objects in the bundle written back (observable included). */
      objects: number;
      relationships: number;
      /** Criminal IP calls made for this job (0 when served from the cache). */
      calls: number;
      score?: number;
      labels: string[];
      /** True when the answer came from the freshness cache. */
      cached: boolean;
    }
  | { kind: 'skipped'; reason: SkipReason; detail: string; calls: number }
  | { kind: 'retry-later'; reason: string; delaySeconds: number; job: EnrichmentJob; calls: number }
  | { kind: 'failed'; reason: string; permanent: true; calls: number };

/** Where the consumer is in the job's delivery history: decides last-attempt bookkeeping. */
export interface Attempt {
  /** 1 for the first delivery (SQS ApproximateReceiveCount). */
  receiveCount: number;
  /** The queue's maxReceiveCount: the delivery after it goes to the dead-letter queue. */
  maxReceiveCount: number;
}
