/**
 * The IntelSource adapter (lib/pipeline/ports.ts) over Criminal IP: IPs get the full asset report
 * plus the configured extras; domains, host names and URLs go through the scan flow (scan.ts).
 * Each lookup counts the HTTP calls it made, including retries.
 */
import { domainToASCII } from 'node:url';
import type { CriminalIpSettings } from '../config';
import type { Observable, ScanProgress } from '../jobs/types';
import { type Clock, systemClock } from '../core/clock';
import type { Intel, IntelSource, LookupOptions, LookupResult } from './intel';
import { type ClientOptions, CriminalIpClient, type CallOptions } from './client';
import { CriminalIpApi } from './endpoints';
import { CriminalIpError, InvalidTargetError } from './errors';
import { DomainScanFlow, type ScanSettings, type ScanTarget } from './scan';
import { assertPublicTarget } from './targets';

export type IntelSourceSettings = ScanSettings & Pick<CriminalIpSettings, 'extraIpEndpoints'>;

export type FinalLookupResult = Exclude<LookupResult, { status: 'pending' }>;

export class CriminalIpIntelSource implements IntelSource {
  private readonly flow: DomainScanFlow;

  constructor(
    readonly api: CriminalIpApi,
    private readonly settings: IntelSourceSettings,
    clock: Clock = systemClock,
  ) {
    this.flow = new DomainScanFlow(api, settings, clock);
  }

  /** The source for a configuration: a client on the shared agent and limiter unless told otherwise. */
  static fromSettings(
    settings: CriminalIpSettings,
    clientOptions: ClientOptions = {},
    clock: Clock = systemClock,
  ): CriminalIpIntelSource {
    return new CriminalIpIntelSource(
      new CriminalIpApi(new CriminalIpClient(settings, clientOptions)),
      settings,
      clock,
    );
  }

  /**
   * Looks the observable up, or resumes its scan. Throws InvalidTargetError, without any call,
   * for targets Criminal IP cannot know (private addresses, special-use names); a target the
   * service itself refuses is answered "not-found". Other failures throw CriminalIpError
   * subclasses carrying `calls`.
   */
  async lookup(
    observable: Observable,
    scan?: ScanProgress,
    options: LookupOptions = {},
  ): Promise<LookupResult> {
    assertPublicTarget(observable.type, observable.value);
    let calls = 0;
    const call: CallOptions = {
      onCall: () => (calls += 1),
      ...(options.beforeCall ? { beforeCall: options.beforeCall } : {}),
    };
    try {
      switch (observable.type) {
        case 'ipv4-addr':
        case 'ipv6-addr':
          return { ...(await this.lookupIp(observable.value.trim(), call)), calls };
        case 'domain-name':
        case 'hostname':
        case 'url':
          return {
            ...(await this.flow.step(targetOf(observable), scan, call, {
              ...(options.fullScan ? { fullScan: true } : {}),
            })),
            calls,
          };
      }
    } catch (error) {
      if (error instanceof InvalidTargetError && calls > 0) {
        return {
          status: 'not-found',
          reason: `Criminal IP refused ${observable.value}: ${error.reason}`,
          calls,
        };
      }
      if (error instanceof CriminalIpError) error.calls = calls;
      throw error;
    }
  }

  private async lookupIp(ip: string, call: CallOptions) {
    const report = await this.api.ipReport(ip, call);
    const intel: Extract<Intel, { kind: 'ip' }> = { kind: 'ip', report };
    for (const extra of this.settings.extraIpEndpoints) {
      try {
        if (extra === 'malicious-info') intel.maliciousInfo = await this.api.maliciousInfo(ip, call);
        else intel.suspiciousInfo = await this.api.suspiciousInfo(ip, call);
      } catch (error) {
        // The report was served, so the address is valid: an extra that refuses it adds nothing.
        if (!(error instanceof InvalidTargetError)) throw error;
      }
    }
    return { status: 'ready' as const, intel };
  }
}

/** Criminal IP speaks DNS: an internationalised name is sent in its punycode form. */
function asciiName(name: string): string {
  return domainToASCII(name) || name;
}

function targetOf(observable: Observable): ScanTarget {
  return observable.type === 'url'
    ? { kind: 'url', query: observable.value.trim() }
    : { kind: 'domain', query: asciiName(observable.value.trim().toLowerCase().replace(/\.$/, '')) };
}

export interface ScanUntilDoneOptions {
  /** How to wait between polls; the CLI sleeps, tests pass a no-op. */
  sleep?: (ms: number) => Promise<void>;
  /** Resume a scan already started. */
  scan?: ScanProgress;
  /** Passed to every round's lookup (the call budget). */
  lookup?: LookupOptions;
}

/**
 * Runs lookups until the answer is final, waiting `retryAfterSeconds` between polls: for the
 * command line, which has no queue to re-deliver the job. Ends because the source gives up after
 * scanMaxPolls. `calls` is the total over all rounds.
 */
export async function scanUntilDone(
  source: IntelSource,
  observable: Observable,
  options: ScanUntilDoneOptions = {},
): Promise<FinalLookupResult> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let scan = options.scan;
  let calls = 0;
  for (;;) {
    let result: LookupResult;
    try {
      result = await source.lookup(observable, scan, options.lookup);
    } catch (error) {
      if (error instanceof CriminalIpError) error.calls = calls + (error.calls ?? 0);
      throw error;
    }
    calls += result.calls;
    if (result.status !== 'pending') return { ...result, calls };
    await sleep(result.retryAfterSeconds * 1000);
    scan = result.scan;
  }
}
