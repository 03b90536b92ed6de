/** In-memory ports and configuration for the handler tests. */
import { loadConfig, type Config } from '../../lib/config';
import type {
  CachedIntel,
  CreditsRecord,
  CreditsStore,
  Ledger,
  PlatformRecord,
  PlatformStore,
  SpendCounts,
  SpendPeriod,
  SpendStore,
  WrittenByUs,
} from '../../lib/pipeline/ports';
import type { Clock } from '../../lib/core/clock';
import type { Log } from '../../lib/core/log';
import type { MetricsSink } from '../../lib/core/metrics';

export const CONNECTOR_ID = '2a1b7f0e-3c4d-4e5f-8a9b-0c1d2e3f4a5b';

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    CRIMINALIP_API_KEY: 'cip-test-key',
    CRIMINALIP_API_URL: 'http://127.0.0.1:9',
    OPENCTI_URL: 'http://127.0.0.1:9',
    OPENCTI_TOKEN: 'octi-test-token',
    CONNECTOR_ID,
    CONNECTOR_CALLBACK_URL: 'https://api.example.com/prod/opencti/callback',
    ...env,
  });
}

export const fixedClock = (iso = '2026-11-20T10:00:00.000Z'): Clock => ({ now: () => new Date(iso) });

/** A Ledger in memory, with TTLs on the given clock. */
export class MemoryLedger implements Ledger, PlatformStore, SpendStore, CreditsStore {
  readonly intel = new Map<string, { value: CachedIntel; until: number }>();
  readonly done = new Map<string, number>();
  pause: number | undefined;
  readonly written = new Map<string, WrittenByUs>();

  constructor(private readonly clock: Clock = { now: () => new Date() }) {}

  private now() {
    return this.clock.now().getTime();
  }
  async getIntel(key: string) {
    const hit = this.intel.get(key);
    return hit && hit.until > this.now() ? hit.value : undefined;
  }
  async putIntel(key: string, value: CachedIntel, ttlSeconds: number) {
    this.intel.set(key, { value, until: this.now() + ttlSeconds * 1000 });
  }
  async isDone(jobId: string) {
    return (this.done.get(jobId) ?? 0) > this.now();
  }
  async markDone(jobId: string, ttlSeconds: number) {
    this.done.set(jobId, this.now() + ttlSeconds * 1000);
  }
  readonly records = new Map<string, { value: string; until: number }>();
  private record(key: string) {
    const hit = this.records.get(key);
    return hit && hit.until > this.now() ? hit.value : undefined;
  }
  async getJobWork(jobId: string) {
    return this.record(`work#${jobId}`);
  }
  async putJobWork(jobId: string, workId: string, ttlSeconds: number) {
    this.records.set(`work#${jobId}`, { value: workId, until: this.now() + ttlSeconds * 1000 });
  }
  async getStepAnswer(jobId: string) {
    return this.record(`answer#${jobId}`);
  }
  async putStepAnswer(jobId: string, answer: string, ttlSeconds: number) {
    this.records.set(`answer#${jobId}`, { value: answer, until: this.now() + ttlSeconds * 1000 });
  }
  async getQuotaPause() {
    return this.pause !== undefined && this.pause > this.now() ? this.pause : undefined;
  }
  async setQuotaPause(until: number | undefined) {
    this.pause = until;
  }
  async getWritten(key: string) {
    return this.written.get(key);
  }
  async putWritten(key: string, value: WrittenByUs) {
    this.written.set(key, value);
  }
  readonly spend = new Map<string, number>();
  async addSpend(period: SpendPeriod, calls: number, limits: Partial<SpendCounts>) {
    const spent = await this.readSpend(period);
    if ((['day', 'month'] as const).some((w) => limits[w] !== undefined && spent[w] + calls > limits[w]))
      return false;
    this.spend.set(`month#${period.month}`, spent.month + calls);
    this.spend.set(`day#${period.day}`, spent.day + calls);
    return true;
  }
  async readSpend(period: SpendPeriod) {
    return {
      month: this.spend.get(`month#${period.month}`) ?? 0,
      day: this.spend.get(`day#${period.day}`) ?? 0,
    };
  }
  credits: CreditsRecord | undefined;
  async getCredits() {
    return this.credits;
  }
  async putCredits(record: CreditsRecord) {
    this.credits = record;
  }
  platform: PlatformRecord | undefined;
  async getPlatform() {
    return this.platform;
  }
  async putPlatform(record: PlatformRecord) {
    this.platform = record;
  }
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  extra: Record<string, unknown>;
}

export function recordingLog(): Log & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine['level']) =>
    (message: string, extra: Record<string, unknown> = {}) =>
      void lines.push({ level, message, extra });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export interface MetricPoint {
  name: string;
  value: number;
  dimensions: Record<string, string>;
}

export function recordingMetrics(): MetricsSink & {
  points: MetricPoint[];
  total(name: string, dims?: Record<string, string>): number;
} {
  const points: MetricPoint[] = [];
  return {
    points,
    count(name, value = 1, dimensions = {}) {
      points.push({ name, value, dimensions });
    },
    total(name, dims = {}) {
      return points
        .filter((p) => p.name === name && Object.entries(dims).every(([k, v]) => p.dimensions[k] === v))
        .reduce((n, p) => n + p.value, 0);
    },
  };
}
