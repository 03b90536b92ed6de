/** Incoming requests → EnrichmentJobs: the entry points the ingest routes, the CLI and the sweep use. */
export * from './types';
export { MAX_INLINE_BYTES, type QueueEnvelope } from './envelope';
export { MAX_BODY_BYTES, MAX_WEBHOOK_OBSERVABLES } from './limits';
export { REJECTION_REASONS, type RejectionReason } from './rejections';
export {
  MAX_NAME_LENGTH,
  MAX_URL_LENGTH,
  entityTypeOf,
  inferObservableType,
  normaliseObservable,
  observableTypeOf,
  readObservable,
  stixTypeOfId,
  toAsciiName,
  validateObservable,
} from './observable';
export {
  parseListenMessage,
  type AnswerOnlyJob,
  type ListenJob,
  type ListenOptions,
  type ParsedListen,
} from './parse-listen';
export {
  WebhookError,
  parseWebhookPayload,
  type IgnoredItem,
  type ParsedWebhook,
  type WebhookErrorCode,
  type WebhookIgnoreReason,
  type WebhookJob,
  type WebhookOptions,
} from './parse-webhook';
export {
  listenJobId,
  newCliJob,
  newSweepJob,
  webhookJobId,
  type JobSubject,
  type ListenOrigin,
  type WebhookDelivery,
} from './job-id';
