/**
 * Criminal IP: HTTP client, endpoint wrappers, error taxonomy, the domain/URL scan flow and the
 * IntelSource adapter. Other parts import from here (or from ./targets for the target check).
 */
export * from './errors';
export { CriminalIpClient, sharedAgent } from './client';
export type {
  CallOptions,
  CallObserver,
  CallRecord,
  CallSpec,
  ClientOptions,
  ClientSettings,
} from './client';
export { CriminalIpApi } from './endpoints';
export { Semaphore, sharedLimiter } from './limiter';
export type { Limiter, Release } from './limiter';
export { DEFAULT_BACKOFF, backoffDelay, parseRetryAfter } from './retry';
export type { BackoffPolicy } from './retry';
export { DomainScanFlow } from './scan';
export type { DomainIntel, ScanSettings, ScanStep, ScanTarget } from './scan';
export { CriminalIpIntelSource, scanUntilDone } from './intel-source';
export type { FinalLookupResult, IntelSourceSettings, ScanUntilDoneOptions } from './intel-source';
export { assertPublicTarget, isPublicIp, nonPublicReason, targetRejection } from './targets';
export * from './parse';
export type * from './types';
