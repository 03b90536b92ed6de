/**
 * The local event source mapping: polls the SQLite queue and hands each batch to the enrich
 * function's handler, exactly as Lambda's SQS poller would (lib/local/sqs-event.ts builds the
 * event and settles the partial-batch answer).
 *
 * It sleeps while nothing is due: until the next delayed or hidden message becomes visible, until
 * a send wakes it, or for `idlePollMs` at most (another process may queue jobs in the same file).
 *
 * Stopping finishes the batch in flight, or, once the grace period is over, hands its messages
 * back to the queue at once (visibility 0) so that the next start picks them up: nothing is lost.
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { decodeEnvelope } from '../aws/envelope-codec';
import { systemClock, type Clock, type Log } from '../pipeline/ports';
import type { LocalQueue, ReceivedMessage } from './queue';
import { settleBatch, toSqsEvent, type HandlerResult } from './sqs-event';

/** What the consumer hands a batch to: the enrich function's handler. */
export type BatchHandler = (event: SQSEvent) => Promise<unknown>;

export type JobOutcomeKind = 'written' | 'skipped' | 'retry-later' | 'failed' | 'error';

/** One delivery of one job, as the enrich handler reported it. */
export interface JobReport {
  messageId: string;
  jobId: string | undefined;
  /** What the job is about (undefined when the message was not a readable job). */
  observable: { type: string; value: string } | undefined;
  origin: string | undefined;
  outcome: JobOutcomeKind;
  /** Criminal IP calls made by this delivery. */
  calls: number;
  ms: number | undefined;
  /** Delivery number (SQS ApproximateReceiveCount). */
  attempt: number | undefined;
  /** The rest of what the handler said: score, objects, relationships, reason, errorMessage... */
  detail: Record<string, unknown>;
}

const OUTCOMES: ReadonlySet<string> = new Set<JobOutcomeKind>([
  'written',
  'skipped',
  'retry-later',
  'failed',
  'error',
]);
/** Correlation keys the handler adds to every line of a job; the text format shows the observable instead. */
const CORRELATION_KEYS = ['jobId', 'messageId', 'observableType', 'origin', 'attempt'];

interface Tracked {
  observable: { type: string; value: string } | undefined;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The human sentence for a job report (text log format, demo output). */
export function describeJob(report: JobReport): string {
  const subject = report.observable
    ? `${report.observable.type} ${report.observable.value}`
    : `message ${report.messageId}`;
  const d = report.detail;
  const text = (key: string) =>
    typeof d[key] === 'string' || typeof d[key] === 'number' ? String(d[key]) : undefined;
  let what: string;
  switch (report.outcome) {
    case 'written': {
      const parts = [
        text('score') !== undefined ? `score ${text('score')}` : 'no score',
        text('objects') !== undefined ? plural(Number(d.objects), 'object') : undefined,
        text('relationships') !== undefined ? plural(Number(d.relationships), 'relationship') : undefined,
      ].filter(Boolean);
      what = `written to OpenCTI (${parts.join(', ')}${d.cached === true ? ', from the cache' : ''})`;
      break;
    }
    case 'skipped':
      what = `skipped (${text('reason') ?? 'no reason given'})${text('detail') ? `: ${text('detail')}` : ''}`;
      break;
    case 'retry-later':
      what = `waiting ${text('delaySeconds') ?? '?'} s${text('reason') ? `: ${text('reason')}` : ''}`;
      break;
    case 'failed':
      what = `failed: ${text('reason') ?? 'no reason given'}`;
      break;
    case 'error':
      what = `error on delivery ${report.attempt ?? '?'}: ${text('errorMessage') ?? 'unknown error'}`;
      break;
  }
  const ms = report.ms === undefined ? '' : `, ${report.ms} ms`;
  return `${subject}: ${what} [${plural(report.calls, 'Criminal IP call')}${ms}]`;
}

/**
 * Watches the enrich handler's log for its one line per job (the entry carrying `outcome` and
 * `messageId`), turns it into a JobReport for listeners, and, in the text format, rewrites the
 * job's lines to name the observable rather than ids.
 */
export class JobReporter {
  private readonly tracked = new Map<string, Tracked>();
  private readonly listeners: Array<(report: JobReport) => void> = [];
  /** The Log to give the enrich handler. */
  readonly log: Log;

  constructor(
    private readonly target: Log,
    private readonly format: 'text' | 'json' = 'text',
  ) {
    const wrap =
      (level: keyof Log) =>
      (message: string, extra?: Record<string, unknown>): void =>
        this.write(level, message, extra);
    this.log = { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
  }

  onJob(listener: (report: JobReport) => void): void {
    this.listeners.push(listener);
  }

  /** Remembers what each message of a batch is about, for the lines the handler is about to write. */
  expect(messages: readonly ReceivedMessage[]): void {
    for (const message of messages) {
      let observable: Tracked['observable'];
      try {
        const envelope = decodeEnvelope(message.body);
        if ('job' in envelope)
          observable = { type: envelope.job.observable.type, value: envelope.job.observable.value };
      } catch {
        observable = undefined; // the handler reports malformed messages itself
      }
      this.tracked.set(message.messageId, { observable });
    }
  }

  forget(records: readonly Pick<SQSRecord, 'messageId'>[]): void {
    for (const record of records) this.tracked.delete(record.messageId);
  }

  private write(level: keyof Log, message: string, extra: Record<string, unknown> | undefined): void {
    const messageId = typeof extra?.messageId === 'string' ? extra.messageId : undefined;
    const tracked = messageId === undefined ? undefined : this.tracked.get(messageId);
    if (!extra || !messageId || !tracked) {
      this.target[level](message, extra);
      return;
    }
    const outcome = extra.outcome;
    if (typeof outcome === 'string' && OUTCOMES.has(outcome)) {
      const report = this.reportOf(messageId, tracked, outcome as JobOutcomeKind, extra);
      for (const listener of this.listeners) listener(report);
      if (this.format === 'text') this.target[level](describeJob(report));
      else this.target[level](message, { ...extra, observableValue: tracked.observable?.value });
      return;
    }
    if (this.format === 'json') {
      this.target[level](message, { ...extra, observableValue: tracked.observable?.value });
      return;
    }
    const rest = Object.fromEntries(Object.entries(extra).filter(([key]) => !CORRELATION_KEYS.includes(key)));
    const subject = tracked.observable
      ? `${tracked.observable.type} ${tracked.observable.value}`
      : `message ${messageId}`;
    this.target[level](`${subject}: ${message}`, rest);
  }

  private reportOf(
    messageId: string,
    tracked: Tracked,
    outcome: JobOutcomeKind,
    extra: Record<string, unknown>,
  ): JobReport {
    const number = (key: string) => (typeof extra[key] === 'number' ? (extra[key] as number) : undefined);
    const detail = Object.fromEntries(
      Object.entries(extra).filter(([key]) => ![...CORRELATION_KEYS, 'outcome', 'calls', 'ms'].includes(key)),
    );
    return {
      messageId,
      jobId: typeof extra.jobId === 'string' ? extra.jobId : undefined,
      observable: tracked.observable,
      origin: typeof extra.origin === 'string' ? extra.origin : undefined,
      outcome,
      calls: number('calls') ?? 0,
      ms: number('ms'),
      attempt: number('attempt'),
      detail,
    };
  }
}

export interface LocalConsumerOptions {
  queue: LocalQueue;
  handler: BatchHandler;
  /** How long a received batch stays hidden (the queue's VisibilityTimeout). */
  visibilityTimeoutSeconds: number;
  /** Records per batch, 1-10 (the event source mapping's BatchSize). Default 10. */
  batchSize?: number;
  log: Log;
  /** Told about each batch before the handler runs (names the jobs in its log lines). */
  reporter?: JobReporter;
  clock?: Clock;
  /** Longest sleep when nothing is due: jobs queued by another process are seen this late. Default 2 s. */
  idlePollMs?: number;
}

/** What a stop left behind. */
export interface StopReport {
  /** Messages of an unfinished batch handed back to the queue. */
  returned: number;
}

type Abandon = { kind: 'abandon' };

export class LocalConsumer {
  private running = false;
  private stopping = false;
  private loop: Promise<StopReport> | undefined;
  private wakeSleeper: (() => void) | undefined;
  private abandon: ((value: Abandon) => void) | undefined;
  private readonly abandoned: Promise<Abandon>;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly clock: Clock;
  private batches = 0;

  constructor(private readonly options: LocalConsumerOptions) {
    this.clock = options.clock ?? systemClock;
    this.abandoned = new Promise<Abandon>((resolve) => (this.abandon = resolve));
  }

  /** Batches handled so far. */
  get batchCount(): number {
    return this.batches;
  }

  start(): void {
    if (this.running || this.stopping) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Something was queued: poll now rather than at the end of the current sleep. */
  wake(): void {
    this.wakeSleeper?.();
  }

  /**
   * Stops polling. The batch in flight may finish within `graceMs`; after that its messages go
   * back to the queue. Calling again with a shorter grace (a second Ctrl-C) shortens the wait.
   */
  stop(graceMs = Number.POSITIVE_INFINITY): Promise<StopReport> {
    this.stopping = true;
    this.wake();
    if (Number.isFinite(graceMs)) {
      if (this.graceTimer) clearTimeout(this.graceTimer);
      this.graceTimer = setTimeout(() => this.abandon?.({ kind: 'abandon' }), Math.max(0, graceMs));
    }
    const done = this.loop ?? Promise.resolve({ returned: 0 });
    return done.finally(() => {
      if (this.graceTimer) clearTimeout(this.graceTimer);
    });
  }

  private async run(): Promise<StopReport> {
    const idlePollMs = this.options.idlePollMs ?? 2_000;
    while (!this.stopping) {
      let outcome: 'handled' | 'empty' | StopReport;
      try {
        outcome = await this.pollBatch();
      } catch (error) {
        this.options.log.error('Polling the local queue failed; trying again shortly', {
          error: error instanceof Error ? error.message : String(error),
        });
        await this.sleep(1_000);
        continue;
      }
      if (typeof outcome === 'object') return outcome;
      if (outcome === 'handled') continue;
      const next = this.options.queue.nextVisibleAtMs();
      const now = this.clock.now().getTime();
      const wait = next === undefined ? idlePollMs : Math.min(idlePollMs, Math.max(5, next - now));
      await this.sleep(wait);
    }
    return { returned: 0 };
  }

  private async pollBatch(): Promise<'handled' | 'empty' | StopReport> {
    const { queue, reporter } = this.options;
    const messages = queue.receive(this.options.batchSize ?? 10, this.options.visibilityTimeoutSeconds);
    if (messages.length === 0) return 'empty';
    this.batches += 1;
    const event = toSqsEvent(queue.name, messages);
    reporter?.expect(messages);
    const run = (async (): Promise<HandlerResult> => {
      try {
        // The handler gets its own copy: what it does to the event cannot change what is settled.
        return { kind: 'returned', response: await this.options.handler(structuredClone(event)) };
      } catch (error) {
        return { kind: 'threw', error };
      }
    })();
    const result = await Promise.race([run, this.abandoned]);
    if (result.kind === 'abandon') {
      // The handler may still be running; it is left to fail against closed stores. Its messages
      // become visible again now, so the next start does not wait out the visibility timeout.
      let returned = 0;
      for (const message of messages) if (queue.changeVisibility(message.receiptHandle, 0)) returned += 1;
      this.options.log.warn(
        `Stopped with ${messages.length} job(s) unfinished: ${returned} handed back to the queue for the next start`,
      );
      return { returned };
    }
    const settlement = settleBatch(queue, event, result);
    reporter?.forget(event.Records);
    if (settlement.verdict.kind === 'failure') {
      this.options.log.error(`The enrich handler failed the whole batch: ${settlement.verdict.reason}`, {
        messages: event.Records.length,
      });
    }
    if (settlement.stale.length > 0) {
      this.options.log.warn(
        'Some jobs outlived the visibility timeout and were delivered again meanwhile: raise QUEUE_VISIBILITY_SECONDS',
        { messages: settlement.stale.length },
      );
    }
    return 'handled';
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleeper = () => {
        this.wakeSleeper = undefined;
        done();
      };
    });
  }
}
