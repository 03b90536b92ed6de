/**
 * The domain/URL scan flow as a resumable step. A full scan takes minutes, so a step never waits:
 * it starts a scan and answers "pending" with the scan's progress, and the next delivery of the
 * job resumes from that progress with one status poll. Before spending a scan, a recent full scan
 * of the same target is reused (docs/criminalip-api.md §8).
 *
 * Scan mode `auto` takes the cheapest path to a verdict, as Criminal IP's own playbooks escalate:
 *   1. the quick verdict of the domain (one call, no scan). When it decides, it is the answer:
 *      a domain called safe or malicious, a URL whose domain is called malicious (a safe domain
 *      does not clear one page of it);
 *   2. otherwise a recent full report, reused with the verdict;
 *   3. otherwise a lite scan;
 *   4. a full scan only when the lite report stays undetermined.
 * When an analyst asks (manual enrichment, the CLI: `fullScan`), step 1 does not end the lookup
 * and step 3 is the full scan.
 */
import type { CriminalIpSettings } from '../config';
import type { ScanProgress } from '../jobs/types';
import type { Clock } from '../core/clock';
import type { Intel } from './intel';
import type { CallOptions } from './client';
import type { CriminalIpApi } from './endpoints';
import {
  CriminalIpError,
  InvalidApiKeyError,
  QuotaExhaustedError,
  ScanFailedError,
  UnexpectedResponseError,
} from './errors';
import { asString, cipTime, dataOf, quickVerdictOf, recordsOf, scanIdOf, scanPercentageOf } from './parse';

/** A lite report whose score has a word (`"20% (Safe)"`) has decided; without one it has not. */
function liteDecided(report: unknown): boolean {
  const score = asString(dataOf(report)?.domain_score);
  return score !== undefined && /\((safe|low|moderate|dangerous|critical)\)/i.test(score);
}

/** The domain the quick verdict is asked about: the host of a URL, without `www.`. */
function quickDomainOf(target: ScanTarget): string | undefined {
  let host = target.query;
  if (target.kind === 'url') {
    try {
      host = new URL(target.query).hostname;
    } catch {
      return undefined;
    }
  }
  return host.toLowerCase().replace(/^www\./, '') || undefined;
}

export type ScanSettings = Pick<
  CriminalIpSettings,
  'scanMode' | 'scanMaxAgeDays' | 'scanPollSeconds' | 'scanMaxPolls'
>;

export type DomainIntel = Extract<Intel, { kind: 'domain' }>;

export type ScanStep =
  | { status: 'ready'; intel: DomainIntel }
  | { status: 'pending'; scan: ScanProgress; retryAfterSeconds: number }
  | { status: 'not-found'; reason: string };

/** What is being scanned: a domain or host name, or a full URL (its path matters). */
export interface ScanTarget {
  kind: 'domain' | 'url';
  query: string;
}

const DAY_MS = 86_400_000;
/** Tolerate a report stamped slightly in the future (clock skew, undocumented time zone). */
const FUTURE_SKEW_MS = DAY_MS;

/** URL identity for matching a listed report: scheme and host case-insensitive, no trailing slash. */
function normaliseUrl(value: string): string | undefined {
  try {
    const url = new URL(value);
    url.hash = '';
    return url.toString().replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

/** Does a listed report (its `url`) describe this target? */
function describes(target: ScanTarget, listedUrl: string | undefined): boolean {
  if (target.kind === 'url') {
    const want = normaliseUrl(target.query);
    return want !== undefined && listedUrl !== undefined && normaliseUrl(listedUrl) === want;
  }
  // Old answers list bare scan ids; the lookup was by this domain, so take them.
  if (listedUrl === undefined) return true;
  try {
    const url = new URL(/^[a-z]+:\/\//i.test(listedUrl) ? listedUrl : `http://${listedUrl}`);
    const host = url.hostname.toLowerCase();
    const domain = target.query.toLowerCase();
    // A scan of one page of the domain says something about that page only: take the root page.
    return (host === domain || host === `www.${domain}`) && (url.pathname === '/' || url.pathname === '');
  } catch {
    return false;
  }
}

function hasReport(body: unknown): boolean {
  const data = dataOf(body);
  return data !== undefined && Object.keys(data).length > 0;
}

export class DomainScanFlow {
  constructor(
    private readonly api: CriminalIpApi,
    private readonly settings: ScanSettings,
    private readonly clock: Clock,
  ) {}

  /** One step of the flow: reuse, start, or (with `scan`) poll once and fetch when done. */
  async step(
    target: ScanTarget,
    scan: ScanProgress | undefined,
    call: CallOptions,
    options: { fullScan?: boolean } = {},
  ): Promise<ScanStep> {
    if (scan) return this.poll(target, scan, call);
    if (this.settings.scanMode === 'auto') return this.cheapest(target, call, options.fullScan === true);

    const reusable = await this.findRecentScan(target, call);
    if (reusable !== undefined) {
      const report = await this.api.domainReport(reusable, call);
      if (hasReport(report)) return { status: 'ready', intel: { kind: 'domain', scanId: reusable, report } };
    }
    if (this.settings.scanMode === 'reuse-only') {
      return {
        status: 'not-found',
        reason: `no full scan of ${target.query} in the last ${this.settings.scanMaxAgeDays} days (scan mode reuse-only)`,
      };
    }
    return this.start(target, call);
  }

  /** Scan mode auto, a fresh lookup: the steps of the header. */
  private async cheapest(target: ScanTarget, call: CallOptions, fullScan: boolean): Promise<ScanStep> {
    const domain = quickDomainOf(target);
    const quick = domain !== undefined ? await this.api.quickVerdict(domain, call) : undefined;
    const verdict = quickVerdictOf(quick)?.result;
    const decided = verdict === 'malicious' || (verdict === 'safe' && target.kind === 'domain');
    if (decided && !fullScan) return { status: 'ready', intel: { kind: 'domain', quick } };
    const reusable = await this.findRecentScan(target, call);
    if (reusable !== undefined) {
      const report = await this.api.domainReport(reusable, call);
      if (hasReport(report)) {
        return {
          status: 'ready',
          intel: { kind: 'domain', scanId: reusable, report, ...(quick ? { quick } : {}) },
        };
      }
    }
    return this.start(target, call, fullScan ? 'full' : 'lite');
  }

  /** The id of the freshest listed full scan of the target within scanMaxAgeDays, if any. */
  private async findRecentScan(target: ScanTarget, call: CallOptions): Promise<string | undefined> {
    if (this.settings.scanMaxAgeDays <= 0) return undefined;
    const listing = await this.api.domainReports(target.query, 0, call);
    const data = dataOf(listing);
    const items = recordsOf(data?.reports ?? data?.items);
    const now = this.clock.now().getTime();
    const maxAgeMs = this.settings.scanMaxAgeDays * DAY_MS;

    let best: { scanId: string; at: number } | undefined;
    for (const item of items) {
      const scanId = asString(item.scan_id);
      const at = cipTime(item.reg_dtime)?.getTime();
      if (scanId === undefined || at === undefined) continue;
      if (now - at > maxAgeMs || at - now > FUTURE_SKEW_MS) continue;
      if (!describes(target, asString(item.url))) continue;
      if (!best || at > best.at) best = { scanId, at };
    }
    return best?.scanId;
  }

  private async start(
    target: ScanTarget,
    call: CallOptions,
    mode: 'lite' | 'full' = this.settings.scanMode === 'lite' ? 'lite' : 'full',
  ): Promise<ScanStep> {
    const started =
      mode === 'lite'
        ? await this.api.liteScan(target.query, call)
        : await this.api.startScan(target.query, call);
    const scanId = scanIdOf(started);
    if (scanId === undefined) {
      throw new UnexpectedResponseError('a scan answer without scan_id', {
        endpoint: mode === 'lite' ? '/v1/domain/lite/scan' : '/v1/domain/scan',
      });
    }
    return {
      status: 'pending',
      scan: { mode, scanId, polls: 0, startedAt: this.clock.now().toISOString() },
      retryAfterSeconds: this.settings.scanPollSeconds,
    };
  }

  private async poll(target: ScanTarget, scan: ScanProgress, call: CallOptions): Promise<ScanStep> {
    const status =
      scan.mode === 'lite'
        ? await this.api.liteProgress(scan.scanId, call)
        : await this.api.scanStatus(scan.scanId, call);
    const percentage = scanPercentageOf(status);
    if (percentage === -2) {
      return {
        status: 'not-found',
        reason: `Criminal IP found no such domain for ${target.query} (scan -2)`,
      };
    }
    if (percentage === -1) {
      throw new ScanFailedError(scan.scanId, {
        endpoint: scan.mode === 'lite' ? '/v1/domain/lite/progress' : `/v1/domain/status/${scan.scanId}`,
      });
    }

    const polls = scan.polls + 1;
    if (percentage !== undefined && percentage >= 100) {
      const report = await this.fetchReport(scan, call);
      // Scan mode auto: a lite scan that could not decide escalates to the full scan.
      if (this.settings.scanMode === 'auto' && scan.mode === 'lite' && !liteDecided(report)) {
        return this.start(target, call, 'full');
      }
      return hasReport(report)
        ? { status: 'ready', intel: this.intelOf(scan, report) }
        : { status: 'not-found', reason: `scan ${scan.scanId} finished with an empty report` };
    }
    if (polls >= this.settings.scanMaxPolls) return this.lastAttempt(target, scan, polls, call);
    return {
      status: 'pending',
      scan: { ...scan, polls },
      retryAfterSeconds: this.settings.scanPollSeconds,
    };
  }

  /**
   * The scan did not reach 100 % within scanMaxPolls: its report may still hold enough (the
   * service fills it progressively), so fetch it once before giving up.
   */
  private async lastAttempt(
    target: ScanTarget,
    scan: ScanProgress,
    polls: number,
    call: CallOptions,
  ): Promise<ScanStep> {
    const givenUp = `scan ${scan.scanId} of ${target.query} did not finish after ${polls} polls`;
    try {
      const report = await this.fetchReport(scan, call);
      if (hasReport(report)) return { status: 'ready', intel: this.intelOf(scan, report) };
    } catch (error) {
      // Key and quota errors concern every call, and transient ones deserve the queue's retry.
      const stop =
        !(error instanceof CriminalIpError) ||
        error.retryable ||
        error instanceof InvalidApiKeyError ||
        error instanceof QuotaExhaustedError;
      if (stop) throw error;
    }
    return { status: 'not-found', reason: givenUp };
  }

  private fetchReport(scan: ScanProgress, call: CallOptions) {
    return scan.mode === 'lite'
      ? this.api.liteReport(scan.scanId, call)
      : this.api.domainReport(scan.scanId, call);
  }

  private intelOf(scan: ScanProgress, report: unknown): DomainIntel {
    return scan.mode === 'lite'
      ? { kind: 'domain', scanId: scan.scanId, liteReport: report }
      : { kind: 'domain', scanId: scan.scanId, report };
  }
}
