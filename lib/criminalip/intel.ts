/**
 * What the Criminal IP side hands the pipeline: the raw answers about one observable (Intel),
 * the outcome of a lookup, and the IntelSource port CriminalIpIntelSource implements.
 */
import type { Observable, ScanProgress } from '../jobs/types';

/** What Criminal IP knows about one observable, as raw response bodies (mapping reads them tolerantly). */
export type Intel =
  | {
      kind: 'ip';
      /** GET /v1/asset/ip/report?full=true */
      report: unknown;
      maliciousInfo?: unknown;
      suspiciousInfo?: unknown;
    }
  | {
      kind: 'domain';
      /** The scan whose report this is (for the report page link); none for a quick verdict alone. */
      scanId?: string;
      /** GET /v2/domain/report/{scan_id} (full mode) */
      report?: unknown;
      /** GET /v1/domain/lite/report/{scan_id} (lite mode) */
      liteReport?: unknown;
      /** GET /v1/domain/quick/hash/view: the instant verdict (scan mode auto). */
      quick?: unknown;
    };

export type LookupResult =
  | { status: 'ready'; intel: Intel; calls: number }
  /** A scan is running: deliver the job again after `retryAfterSeconds` with this progress. */
  | { status: 'pending'; scan: ScanProgress; retryAfterSeconds: number; calls: number }
  /** Criminal IP has nothing (scan -2, reuse-only with no report, invalid target it refused). */
  | { status: 'not-found'; reason: string; calls: number };

export interface LookupOptions {
  /** Runs before each Criminal IP call of the lookup; throwing stops it (the call budget). */
  beforeCall?: () => Promise<void>;
  /**
   * Scan mode auto: an analyst asked (manual enrichment, the CLI), so a domain or URL without a
   * recent report gets the full scan rather than the quick verdict or a lite scan.
   */
  fullScan?: boolean;
}

export interface IntelSource {
  /** Looks the observable up, resuming `scan` when given. Throws CriminalIpError subclasses. */
  lookup(observable: Observable, scan?: ScanProgress, options?: LookupOptions): Promise<LookupResult>;
}
