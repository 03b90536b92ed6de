/**
 * Size limits of incoming requests. The ingest routes answer 413 above MAX_BODY_BYTES.
 *
 * - callback (POST /opencti/callback), 5 MiB: a listen message carries the entity's neighbourhood
 *   (`stix_objects`) or a whole playbook bundle. A Lambda behind API Gateway receives at most 6 MB
 *   per request, the event's own wrapping included, so 5 MiB is the most that is safe to accept.
 *   A job too big for one queue message travels by reference (lib/jobs/envelope.ts).
 * - webhook (POST /webhook), 1 MiB: the notifier sends the objects of one notification; 100
 *   observables with their OpenCTI extensions take a few hundred KiB. Anything bigger is not a
 *   notification this product expects, and refusing it keeps the ingest function small and quick.
 */
export const MAX_BODY_BYTES = {
  callback: 5 * 1024 * 1024,
  webhook: 1024 * 1024,
} as const;

/** At most this many observables in one webhook payload; more is refused with a 400. */
export const MAX_WEBHOOK_OBSERVABLES = 100;

/** The longest delay a queue message can wait (SQS: 15 minutes); longer waits are several hops. */
export const MAX_QUEUE_DELAY_SECONDS = 900;

/** A delay as a queue takes it: whole seconds in [0, 900]; a late retry is harmless. */
export function queueDelaySeconds(seconds: number | undefined): number {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds <= 0) return 0;
  return Math.min(MAX_QUEUE_DELAY_SECONDS, Math.ceil(seconds));
}
