/**
 * The body of a queue message. A job normally travels inline; one too large for a queue message
 * (a playbook bundle can be big) is stored aside and the message carries a reference to it.
 */
import type { EnrichmentJob } from './types';

export type QueueEnvelope = { v: 1; job: EnrichmentJob } | { v: 1; ref: { bucket: string; key: string } };

/** SQS accepts 1 MiB per message; keep a margin for attributes and encoding. */
export const MAX_INLINE_BYTES = 900 * 1024;
