/**
 * What the pipeline benches share: a configuration pointing at the stand-ins, distinct public
 * IPv4 observables, and the real adapters the pipeline runs with outside AWS (lib/compose).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { criminalIpIntelSource, openCti } from '../../lib/local/compose';
import { loadConfig, type Config } from '../../lib/config';
import type { EnrichmentJob, JobOrigin, Observable } from '../../lib/jobs/types';
import { localCallLease } from '../../lib/local/lease';
import { LocalLedger } from '../../lib/local/ledger';
import type { PipelineDeps } from '../../lib/pipeline/enrich-job';
import { noMetrics } from '../../lib/core/metrics';
import { silentLog } from '../../lib/core/log';
import { systemClock } from '../../lib/core/clock';
import type { StandInUrls } from './standins-process';

export const CONNECTOR_ID = '8b2f7d1e-3c4a-4e5b-9f60-7a8b9c0d1e2f';
export const WEBHOOK_TOKEN = 'bench-webhook-token';

export interface BenchWorld {
  config: Config;
  dataDir: string;
  close(): void;
}

/** A configuration on the stand-ins, with its own DATA_DIR (removed by close). */
export function benchWorld(urls: StandInUrls, extra: Record<string, string> = {}): BenchWorld {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cip-octi-bench-'));
  const config = loadConfig({
    CRIMINALIP_API_KEY: urls.criminalIpKey,
    CRIMINALIP_API_URL: urls.criminalIpUrl,
    OPENCTI_URL: urls.openCtiUrl,
    OPENCTI_TOKEN: urls.openCtiToken,
    CONNECTOR_ID,
    WEBHOOK_TOKEN,
    PORT: '0',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'ERROR',
    ...extra,
  });
  return { config, dataDir, close: () => rmSync(dataDir, { recursive: true, force: true }) };
}

/** The i-th of a run of distinct public IPv4 addresses. */
export function publicIp(i: number, block = 33): string {
  return `45.${block}.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}

export function ipObservable(value: string): Observable {
  // The listen message carries the observable's markings: no OpenCTI read for the TLP gate.
  return { type: 'ipv4-addr', value, markingRefs: [] };
}

export function job(observable: Observable, origin: JobOrigin): EnrichmentJob {
  return { jobId: randomUUID(), observable, origin, receivedAt: new Date().toISOString() };
}

/**
 * The pipeline's dependencies with the real adapters (lib/compose), as the functions build them,
 * with the ledger (which also holds the Criminal IP call slots and the job and lookup claims) in
 * memory: it stands for DynamoDB, whose work happens on another machine, so that the figure
 * measures the pipeline rather than a local database file.
 */
export function realDeps(config: Config): PipelineDeps & { ledger: LocalLedger } {
  const ledger = new LocalLedger({ location: ':memory:' });
  return {
    config,
    intel: criminalIpIntelSource(config, { log: silentLog, ledger }),
    opencti: openCti(config, silentLog).port,
    ledger,
    lease: localCallLease(ledger),
    clock: systemClock,
    log: silentLog,
    metrics: noMetrics,
  };
}
