import { Logger } from '@aws-lambda-powertools/logger';
import {
  createMetrics,
  jobLogKeys,
  maskSecrets,
  PowertoolsMetricsSink,
  powertoolsLog,
  recordDuration,
  withKeys,
} from '../../lib/aws/observability';
import { noMetrics } from '../../lib/core/metrics';
import { type Log } from '../../lib/core/log';
import { makeJob } from './fixtures';

/** Lines Powertools writes to stdout while `fn` runs, parsed as JSON. */
function captureStdout(fn: () => void): Record<string, unknown>[] {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return lines
    .join('')
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('logging', () => {
  it('masks attributes named like secrets, at any depth, and keeps the rest', () => {
    expect(
      maskSecrets({
        jobId: 'j',
        openctiToken: 'abc',
        nested: { 'x-api-key': 'k', Authorization: 'Bearer x', n: 1 },
      }),
    ).toEqual({
      jobId: 'j',
      openctiToken: '***',
      nested: { 'x-api-key': '***', Authorization: '***', n: 1 },
    });
  });

  it('writes structured lines through Powertools with per-job keys and no secret', () => {
    const logger = new Logger({ serviceName: 'test-service', logLevel: 'INFO' });
    const lines = captureStdout(() => {
      const log = withKeys(powertoolsLog(logger), jobLogKeys(makeJob(4)));
      log.info('job finished', { outcome: 'written', webhookToken: 'hook-secret-1' });
      log.debug('hidden below INFO');
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'INFO',
      message: 'job finished',
      service: 'test-service',
      jobId: 'job-4',
      observableType: 'ipv4-addr',
      origin: 'enrichment',
      outcome: 'written',
      webhookToken: '***',
    });
    expect(JSON.stringify(lines)).not.toContain('hook-secret-1');
  });

  it('withKeys lets per-call attributes win over the job keys', () => {
    const seen: Record<string, unknown>[] = [];
    const base: Log = { debug() {}, info: (_m, e) => void seen.push(e ?? {}), warn() {}, error() {} };
    withKeys(base, { jobId: 'a', step: 'x' }).info('m', { step: 'y' });
    expect(seen).toEqual([{ jobId: 'a', step: 'y' }]);
  });
});

describe('PowertoolsMetricsSink', () => {
  it('emits EMF counts with their dimensions and durations in milliseconds', () => {
    const metrics = createMetrics({ namespace: 'TestNs', serviceName: 'svc' });
    const sink = new PowertoolsMetricsSink(metrics);
    const blobs = captureStdout(() => {
      sink.count('Jobs', 1, { Outcome: 'written' });
      sink.count('CriminalIpCalls', 3);
      recordDuration(sink, 'JobLatency', 120);
      sink.flush();
    });
    const definitions = blobs.map(
      (b) =>
        (b._aws as { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string; Unit: string }[] }[] })
          .CloudWatchMetrics[0]!,
    );
    expect(definitions.every((d) => d.Namespace === 'TestNs')).toBe(true);
    const jobs = blobs.find((b) => 'Jobs' in b)!;
    expect(jobs).toMatchObject({ Jobs: 1, Outcome: 'written' });
    const rest = blobs.find((b) => 'CriminalIpCalls' in b)!;
    expect(rest).toMatchObject({ CriminalIpCalls: 3, JobLatency: 120 });
    expect(rest).not.toHaveProperty('Outcome');
    const units = definitions
      .flatMap((d) => d.Metrics)
      .reduce<Record<string, string>>((m, x) => ({ ...m, [x.Name]: x.Unit }), {});
    expect(units).toEqual({ Jobs: 'Count', CriminalIpCalls: 'Count', JobLatency: 'Milliseconds' });
  });

  it('flushes nothing when nothing was recorded', () => {
    const sink = new PowertoolsMetricsSink(createMetrics({ namespace: 'TestNs' }));
    expect(captureStdout(() => sink.flush())).toEqual([]);
  });

  it('recordDuration is a no-op on a sink without durations', () => {
    expect(() => recordDuration(noMetrics, 'JobLatency', 1)).not.toThrow();
  });
});
