/**
 * Logs and metrics in Lambda: Powertools Logger (structured JSON) and Metrics (CloudWatch EMF),
 * behind the Log and MetricsSink ports. Service name and namespace come from the environment
 * (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE) with this product's defaults.
 *
 * Secrets never reach a log line: callers do not pass them, and as a second line of defence the
 * adapter masks any attribute whose name says it holds one.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { EnrichmentJob } from '../jobs/types';
import type { Log } from '../core/log';
import type { MetricsSink } from '../core/metrics';

export const DEFAULT_SERVICE_NAME = 'criminalip-opencti';
export const DEFAULT_METRICS_NAMESPACE = 'CriminalIpOpenCti';

const SECRET_NAME = /(token|secret|password|api[-_]?key|authorization|credential)/i;
const MASK = '***';

/** Copies `value` with secret-named attributes masked (nested up to a few levels). */
export function maskSecrets(value: unknown, depth = 0): unknown {
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_NAME.test(key) && v !== undefined && v !== null ? MASK : maskSecrets(v, depth + 1);
  }
  return out;
}

export interface LoggerOptions {
  serviceName?: string;
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return new Logger({
    serviceName: options.serviceName ?? process.env.POWERTOOLS_SERVICE_NAME ?? DEFAULT_SERVICE_NAME,
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
  });
}

/** The Log port over a Powertools Logger. */
export function powertoolsLog(logger: Logger): Log {
  const write =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, extra?: Record<string, unknown>): void => {
      if (extra === undefined) logger[level](message);
      else logger[level](message, maskSecrets(extra) as Record<string, unknown>);
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** A Log that adds `keys` to every line: per-job correlation ids, safe under concurrency. */
export function withKeys(log: Log, keys: Record<string, unknown>): Log {
  const merge = (extra?: Record<string, unknown>) => ({ ...keys, ...extra });
  return {
    debug: (m, e) => log.debug(m, merge(e)),
    info: (m, e) => log.info(m, merge(e)),
    warn: (m, e) => log.warn(m, merge(e)),
    error: (m, e) => log.error(m, merge(e)),
  };
}

/** Correlation ids of a job for log lines (no observable value: it may be sensitive). */
export function jobLogKeys(
  job: Pick<EnrichmentJob, 'jobId' | 'observable' | 'origin'>,
): Record<string, string> {
  return { jobId: job.jobId, observableType: job.observable.type, origin: job.origin.kind };
}

export function createMetrics(options: { namespace?: string; serviceName?: string } = {}): Metrics {
  return new Metrics({
    namespace: options.namespace ?? process.env.POWERTOOLS_METRICS_NAMESPACE ?? DEFAULT_METRICS_NAMESPACE,
    serviceName: options.serviceName ?? process.env.POWERTOOLS_SERVICE_NAME ?? DEFAULT_SERVICE_NAME,
  });
}

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** MetricsSink on Powertools Metrics, plus durations. Call flush() at the end of an invocation. */
export class PowertoolsMetricsSink implements MetricsSink {
  constructor(private readonly metrics: Metrics) {}

  count(name: string, value = 1, dimensions?: Record<string, string>): void {
    this.add(name, MetricUnit.Count, value, dimensions);
  }

  durationMs(name: string, ms: number, dimensions?: Record<string, string>): void {
    this.add(name, MetricUnit.Milliseconds, ms, dimensions);
  }

  /** Writes the buffered metrics (EMF on stdout); a no-op when nothing was recorded. */
  flush(): void {
    if (this.metrics.hasStoredMetrics()) this.metrics.publishStoredMetrics();
  }

  private add(name: string, unit: Unit, value: number, dimensions?: Record<string, string>): void {
    if (dimensions && Object.keys(dimensions).length > 0) {
      // Dimensions on the shared buffer would apply to every metric in it: a single metric
      // carries its own and is written at once.
      const single = this.metrics.singleMetric();
      single.addDimensions(dimensions);
      single.addMetric(name, unit, value);
      return;
    }
    this.metrics.addMetric(name, unit, value);
  }
}

/** Durations when the sink supports them (Powertools), nothing otherwise. */
export function recordDuration(
  metrics: MetricsSink,
  name: string,
  ms: number,
  dims?: Record<string, string>,
): void {
  const sink = metrics as Partial<Pick<PowertoolsMetricsSink, 'durationMs'>>;
  if (typeof sink.durationMs === 'function') sink.durationMs(name, ms, dims);
}
