import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { decodeEnvelope } from '../../lib/jobs/envelope';
import { SqsJobQueue } from '../../lib/aws/sqs-job-queue';
import { createOpenCtiClient } from '../../lib/opencti/client';
import { ConfigError } from '../../lib/config';
import { CallBudget } from '../../lib/pipeline/budget';
import { CRIMINAL_IP_AUTHOR } from '../../lib/stix/author';
import { startOpenCtiStandIn, type OpenCtiStandIn } from '../../lib/standins/opencti';
import type { StandInObservable } from '../../lib/standins/opencti';
import {
  createScheduleHandler,
  registrationMark,
  UnknownTaskError,
  type ScheduleDeps,
  type ScheduleTask,
} from '../../functions/schedule/handler';
import {
  CONNECTOR_ID,
  fixedClock,
  MemoryLedger,
  recordingLog,
  recordingMetrics,
  testConfig,
} from './helpers';

const sqsMock = mockClient(SQSClient);
const NOW = '2026-11-20T10:00:00.000Z';
let standIn: OpenCtiStandIn;

beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
    Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: e.Id, MD5OfMessageBody: 'x' })),
    Failed: [],
  }));
});

afterEach(async () => {
  await standIn?.close();
});

async function setup(
  options: Parameters<typeof startOpenCtiStandIn>[0] = {},
  env: Record<string, string> = {},
) {
  standIn = await startOpenCtiStandIn({ token: 'octi-test-token', ...options });
  const config = testConfig({ OPENCTI_URL: standIn.url, ...env });
  const ledger = new MemoryLedger(fixedClock(NOW));
  const log = recordingLog();
  const deps: ScheduleDeps = {
    config,
    opencti: createOpenCtiClient(config.opencti, { maxRetries: 0 }),
    ledger,
    queue: new SqsJobQueue({
      sqs: new SQSClient({}),
      s3: new S3Client({}),
      queueUrl: 'https://sqs/q',
      bucket: 'b',
      retryDelayMs: 0,
    }),
    clock: fixedClock(NOW),
    log,
    metrics: recordingMetrics(),
    budget: new CallBudget({ store: ledger, settings: config.budget, clock: fixedClock(NOW) }),
  };
  return { deps, ledger, log, run: createScheduleHandler(deps) };
}

const queuedJobs = () =>
  sqsMock
    .commandCalls(SendMessageBatchCommand)
    .flatMap((c) => c.args[0].input.Entries ?? [])
    .map((e) => decodeEnvelope(e.MessageBody ?? ''))
    .map((env) => ('job' in env ? env.job : undefined));

describe('schedule: register', () => {
  it('registers the connector with its scope and callback URL, playbook-compatible', async () => {
    const { run, ledger, deps } = await setup();
    const result = await run({ task: 'register' });
    expect(result).toEqual({ task: 'register', connectorId: CONNECTOR_ID, active: true });
    const connector = standIn.connectors().get(CONNECTOR_ID)!;
    expect(connector).toMatchObject({
      type: 'INTERNAL_ENRICHMENT',
      scope: ['IPv4-Addr', 'IPv6-Addr', 'Domain-Name', 'Hostname', 'Url'],
      playbookCompatible: true,
      autoUpdate: false,
      listenCallbackUri: 'https://api.example.com/prod/opencti/callback',
      registrations: 1,
    });
    expect(await ledger.isDone(registrationMark(deps.config))).toBe(true);
  });
});

describe('schedule: ping', () => {
  it('records the credits for the work messages at most every 15 minutes, and lifts the pause when they are back', async () => {
    const { deps, ledger } = await setup();
    let asked = 0;
    const account = async () => {
      asked += 1;
      return { max_search: 250 };
    };
    const run = createScheduleHandler({ ...deps, account });
    expect(await run({ task: 'ping' })).toMatchObject({ quota: 'running' });
    expect(asked).toBe(1);
    expect(ledger.credits).toEqual({ credits: 250, checkedAt: NOW });
    // Within CREDITS_RECHECK_MS the recorded value stands: no call slot is taken for it.
    expect(await run({ task: 'ping' })).toMatchObject({ quota: 'running' });
    expect(asked).toBe(1);

    await deps.ledger.setQuotaPause(Date.parse(NOW) + 3600_000);
    expect(await run({ task: 'ping' })).toMatchObject({ quota: 'resumed' });
    expect(asked).toBe(2);
    expect(await deps.ledger.getQuotaPause()).toBeUndefined();
  });

  it('reports the share of the monthly budget spent, for the budget alarm', async () => {
    const { deps, ledger } = await setup({}, { CRIMINALIP_MONTHLY_CALL_BUDGET: '400' });
    await ledger.addSpend({ month: NOW.slice(0, 7), day: NOW.slice(0, 10) }, 330, {});
    await createScheduleHandler(deps)({ task: 'ping' });
    const metrics = deps.metrics as ReturnType<typeof recordingMetrics>;
    expect(metrics.total('MonthlyBudgetUsedPercent')).toBe(83);
  });

  it('registers on the first run, then only pings', async () => {
    const { run } = await setup({ knownConnectors: [] });
    expect(await run({ task: 'ping' })).toEqual({
      task: 'ping',
      connectorId: CONNECTOR_ID,
      registered: true,
      active: true,
      quota: 'not checked',
    });
    expect(await run({ task: 'ping' })).toEqual({
      task: 'ping',
      connectorId: CONNECTOR_ID,
      registered: false,
      active: true,
      quota: 'not checked',
    });
    const connector = standIn.connectors().get(CONNECTOR_ID)!;
    expect(connector.registrations).toBe(1);
    expect(connector.pings).toBe(2);
    expect(connector.state).toBe('{}');
  });

  it('registers again when the configuration changed since the last registration', async () => {
    const first = await setup();
    await first.run({ task: 'ping' });
    // Same ledger, new scope: the mark no longer matches.
    const config = testConfig({ OPENCTI_URL: standIn.url, CONNECTOR_SCOPE: 'IPv4-Addr' });
    const run = createScheduleHandler({ ...first.deps, config });
    expect(await run({ task: 'ping' })).toMatchObject({ registered: true });
    expect(standIn.connectors().get(CONNECTOR_ID)).toMatchObject({ registrations: 2, scope: ['IPv4-Addr'] });
  });

  it('registers again when OpenCTI no longer knows the connector', async () => {
    const { run, ledger, deps, log } = await setup({ knownConnectors: [] });
    // Registered earlier (the mark is there) but deleted in OpenCTI since.
    await ledger.markDone(registrationMark(deps.config), 3600);
    expect(await run({ task: 'ping' })).toEqual({
      task: 'ping',
      connectorId: CONNECTOR_ID,
      registered: true,
      active: true,
      quota: 'not checked',
    });
    expect(standIn.connectors().get(CONNECTOR_ID)).toMatchObject({ registrations: 1, pings: 1 });
    expect(log.lines.some((l) => l.level === 'warn' && /no longer knows/.test(l.message))).toBe(true);
  });

  it('fails with the OpenCTI error when the token is refused', async () => {
    const { run } = await setup({ token: 'another-token' });
    await expect(run({ task: 'ping' })).rejects.toThrow(/OpenCTI/);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
  });
});

/** A stale observable the connector enriched before (Criminal IP is its author) unless `extra` says otherwise. */
function observable(n: number, daysOld: number, extra: Partial<StandInObservable> = {}): StandInObservable {
  return {
    standard_id: `ipv4-addr--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    entity_type: 'IPv4-Addr',
    observable_value: `203.0.113.${n}`,
    updated_at: new Date(Date.parse(NOW) - daysOld * 24 * 3600 * 1000).toISOString(),
    createdById: CRIMINAL_IP_AUTHOR.id,
    ...extra,
  };
}

describe('schedule: reenrich', () => {
  it('queues one sweep job per stale observable, oldest first, within the budget', async () => {
    const observables = [
      observable(1, 40),
      observable(2, 90),
      observable(3, 5), // fresh
      observable(4, 31),
      observable(5, 60),
    ];
    const { run } = await setup({ observables }, { REENRICH_BUDGET: '3', REENRICH_STALE_DAYS: '30' });
    const result = await run({ task: 'reenrich' });
    expect(result).toEqual({ task: 'reenrich', found: 3, queued: 3, invalid: 0, notOurs: 0, budget: 3 });
    const jobs = queuedJobs();
    expect(jobs.map((j) => j?.observable.value)).toEqual(['203.0.113.2', '203.0.113.5', '203.0.113.1']);
    expect(jobs[0]).toMatchObject({
      origin: { kind: 'reenrich' },
      observable: { type: 'ipv4-addr', stixId: observables[1]!.standard_id, markingRefs: [] },
      receivedAt: NOW,
    });
  });

  it('queues nothing when nothing is stale', async () => {
    const { run } = await setup({ observables: [observable(1, 1)] });
    expect(await run({ task: 'reenrich' })).toMatchObject({ found: 0, queued: 0 });
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
  });

  it('sends many stale observables in batches of ten', async () => {
    const observables = Array.from({ length: 23 }, (_, i) => observable(i + 1, 100 + i));
    const { run } = await setup({ observables }, { REENRICH_BUDGET: '100' });
    expect(await run({ task: 'reenrich' })).toMatchObject({ found: 23, queued: 23 });
    expect(sqsMock.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries?.length)).toEqual(
      [10, 10, 3],
    );
  });

  describe('REENRICH_FILTER follows the operators of the platform registration recorded', () => {
    const withOperator = (operator: string) =>
      JSON.stringify({ mode: 'and', filters: [{ key: 'objectLabel', operator, values: ['watch'] }] });

    it.each([
      ['7.260817.0', 'script', /"script" is not accepted by OpenCTI 7\.260817\.0; it accepts .*only_eq_to/],
      ['6.9.17', 'only_eq_to', /"only_eq_to" is not accepted by OpenCTI 6\.9\.17; it accepts .*script/],
      ['7.260309.0-lts.7', 'has_changed', /"has_changed" is not accepted by OpenCTI 7\.260309\.0-lts\.7/],
    ] as const)('on %s, %s is refused before OpenCTI is asked', async (platform, operator, message) => {
      const { run, ledger } = await setup(
        { platform, observables: [observable(1, 40)] },
        { REENRICH_FILTER: withOperator(operator) },
      );
      await run({ task: 'register' });
      expect(ledger.platform?.version).toBe(platform);
      const asked = standIn.requests.length;

      const error = await run({ task: 'reenrich' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe('REENRICH_FILTER');
      expect((error as Error).message).toMatch(message);
      expect(standIn.requests.slice(asked).map((r) => r.operationName)).toEqual([]);
      expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
    });

    it('on 7.260817.0, an operator it accepts sweeps as before', async () => {
      const observables = [observable(1, 40, { labels: ['watch'] }), observable(2, 50)];
      const { run } = await setup(
        { platform: '7.260817.0', observables },
        { REENRICH_FILTER: withOperator('eq') },
      );
      await run({ task: 'register' });
      expect(await run({ task: 'reenrich' })).toMatchObject({ found: 1, queued: 1 });
    });

    it('before any registration, the 6.9 operators apply (every line reads them alike)', async () => {
      const { run } = await setup(
        { platform: '7.260817.0', observables: [observable(1, 40)] },
        { REENRICH_FILTER: withOperator('only_eq_to') },
      );
      await expect(run({ task: 'reenrich' })).rejects.toThrow(
        /not accepted by OpenCTI 6\.9 \(the platform version is not recorded yet\)/,
      );
    });
  });

  describe('REENRICH_SCOPE', () => {
    const ANALYST = 'identity--8e1c2f4a-6b3d-5e7f-9a0b-1c2d3e4f5a6b';
    const mixed = () => [
      observable(1, 90, { createdById: ANALYST }), // another author, never enriched by the connector
      observable(2, 80, { createdById: undefined }), // no author, never enriched
      observable(3, 70), // authored by Criminal IP
      observable(4, 60, { createdById: ANALYST }), // another author, but the connector wrote it (ledger)
    ];

    it('own (the default): queues only what the connector enriched before, oldest first', async () => {
      const { run, ledger } = await setup({ observables: mixed() });
      await ledger.putWritten(mixed()[3]!.standard_id, { score: 50, stateLabels: [], at: NOW });
      expect(await run({ task: 'reenrich' })).toMatchObject({ found: 4, queued: 2, notOurs: 2 });
      expect(queuedJobs().map((j) => j?.observable.value)).toEqual(['203.0.113.3', '203.0.113.4']);
    });

    it('all: queues every stale observable in scope, as before', async () => {
      const { run } = await setup({ observables: mixed() }, { REENRICH_SCOPE: 'all' });
      const result = await run({ task: 'reenrich' });
      expect(result).toMatchObject({ found: 4, queued: 4 });
      expect(result).not.toHaveProperty('notOurs');
    });

    it('queues no more than the call budget leaves automatic work', async () => {
      const observables = [1, 2, 3, 4, 5].map((n) => observable(n, 100 - n));
      const { run, ledger } = await setup(
        { observables },
        { CRIMINALIP_DAILY_CALL_BUDGET: '10', CRIMINALIP_RESERVED_PERCENT: '20' },
      );
      // 6 of the 8 calls automatic work may spend today are gone: room for 2 lookups.
      await ledger.addSpend({ month: NOW.slice(0, 7), day: NOW.slice(0, 10) }, 6, {});
      expect(await run({ task: 'reenrich' })).toMatchObject({ found: 2, queued: 2, callBudgetRoom: 2 });
    });
  });

  it('skips a value this product cannot enrich and queues the rest', async () => {
    const observables = [observable(1, 40), observable(2, 50, { observable_value: '999.1.1.1' })];
    const { run } = await setup({ observables });
    expect(await run({ task: 'reenrich' })).toMatchObject({ found: 2, queued: 1, invalid: 1 });
  });
});

it('refuses an unknown task', async () => {
  const { run } = await setup();
  await expect(run({ task: 'sweep' as ScheduleTask })).rejects.toThrow(UnknownTaskError);
});
