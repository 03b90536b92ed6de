/**
 * The Criminal IP source as the pipeline uses it, built one way for Lambda (functions/enrich/aws.ts)
 * and for `npm start` (lib/local/compose.ts): a client whose every call first takes one of the
 * key's call slots on the shared lease, then passes the quota circuit, and is counted.
 */
import type { CriminalIpSettings } from '../config';
import type { CallLease } from '../core/lease';
import type { Log } from '../core/log';
import { METRIC, type MetricsSink } from '../core/metrics';
import type { Clock } from '../core/clock';
import { LeaseCallSlots } from '../criminalip/call-slots';
import { type ClientOptions, CriminalIpClient } from '../criminalip/client';
import { CriminalIpApi } from '../criminalip/endpoints';
import { CriminalIpIntelSource } from '../criminalip/intel-source';
import type { Ledger } from './ports';
import { QuotaCircuit } from './quota';

/**
 * How long a call slot is held at most: connect, headers and body each have the timeout, plus a
 * margin. A holder that died frees its slot after this.
 */
export function callSlotHoldMs(settings: Pick<CriminalIpSettings, 'timeoutMs'>): number {
  return 3 * settings.timeoutMs + 2_000;
}

export interface IntelStackOptions {
  settings: CriminalIpSettings;
  /**
   * The lease and ledger every consumer shares (DynamoDB, the local ledger): with them, the key's
   * call slots and the quota pause hold across instances. Without them: neither.
   */
  shared?: {
    lease: CallLease;
    ledger: Pick<Ledger, 'getQuotaPause' | 'setQuotaPause'>;
    /** How long a call waits for a slot before the job goes back to the queue. */
    slotWaitMs: number;
    slotPollMs?: number;
  };
  clock: Clock;
  log: Log;
  metrics: MetricsSink;
  /** Further client options: the invocation's remaining time, tests' dispatcher and sleep. */
  client?: ClientOptions;
}

export function criminalIpStack(options: IntelStackOptions): CriminalIpIntelSource {
  const { settings, shared, clock, log, metrics } = options;
  const slots = shared
    ? new LeaseCallSlots({
        lease: shared.lease,
        slots: settings.concurrency,
        holdMs: callSlotHoldMs(settings),
        waitMs: shared.slotWaitMs,
        ...(shared.slotPollMs !== undefined ? { pollMs: shared.slotPollMs } : {}),
      })
    : undefined;
  // "limit exceeded" pauses every instance's calls through the ledger; the circuit refuses a call
  // once its slot is held, so a call already queued for a slot is not made either.
  const circuit = shared
    ? new QuotaCircuit({
        ledger: shared.ledger,
        pauseSeconds: settings.quotaPauseSeconds,
        clock,
        log,
        metrics,
      })
    : undefined;
  const slotAcquire = slots ? () => slots.acquire() : undefined;
  const acquire = circuit ? circuit.guard(slotAcquire) : slotAcquire;
  const client = new CriminalIpClient(settings, {
    ...(acquire ? { acquire } : {}),
    onCall: (call) => {
      circuit?.observe(call);
      metrics.count(METRIC.criminalIpHttpCalls, 1, { Outcome: call.outcome });
    },
    log,
    ...options.client,
  });
  return new CriminalIpIntelSource(new CriminalIpApi(client), settings, clock);
}
