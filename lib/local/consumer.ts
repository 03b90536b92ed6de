/**
 * The local event source mapping: polls the SQLite queue and hands each batch to the enrich
 * function's handler, exactly as Lambda's SQS pollers would (lib/local/sqs-event.ts builds the
 * event and settles the partial-batch answer). Like Lambda's maxConcurrency, several batches may
 * be in the handler's hands at once, so one slow job does not stall the jobs queued behind it.
 *
 * It sleeps while nothing is due: until the next delayed or hidden message becomes visible, until
 * a send or the end of a batch wakes it, or for `idlePollMs` at most (another process may queue
 * jobs in the same file).
 *
 * Stopping finishes the batches in flight, or, once the grace period is over, hands their
 * messages back to the queue at once (visibility 0) so that the next start picks them up: nothing
 * is lost.
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { decodeEnvelope } from '../jobs/envelope';
import { systemClock, type Clock } from '../core/clock';
import type { Log } from '../core/log';
import type { LocalQueue, ReceivedMessage } from './queue';
import { settleBatch, toSqsEvent, type HandlerResult } from './sqs-event';

/** What the consumer hands a batch to: the enrich function's handler. */
export type BatchHandler = (event: SQSEvent) => Promise<unknown>;

/**
 * One handler instance per batch in flight, as Lambda gives each concurrent batch its own
 * execution environment: what a handler keeps between records (the enrich handler's
 * ENRICH_CONCURRENCY limit) then applies to each batch, not to all of them together. Instances
 * are made on demand and reused, so there are never more than the most batches run at once.
 */
export function handlerPerBatch(create: () => BatchHandler): BatchHandler {
  const idle: BatchHandler[] = [];
  return async (event) => {
    const instance = idle.pop() ?? create();
    try {
      return await instance(event);
    } finally {
      idle.push(instance);
    }
  };
}

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
  /**
   * Batches in flight holding this message: a message redelivered after its visibility timeout can
   * be in two batches at once, and the first to finish must not forget it for the other.
   */
  deliveries: number;
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
      const known = this.tracked.get(message.messageId);
      this.tracked.set(message.messageId, { observable, deliveries: (known?.deliveries ?? 0) + 1 });
    }
  }

  forget(records: readonly Pick<SQSRecord, 'messageId'>[]): void {
    for (const record of records) {
      const known = this.tracked.get(record.messageId);
      if (!known) continue;
      if (known.deliveries > 1) known.deliveries -= 1;
      else this.tracked.delete(record.messageId);
    }
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
    const number = (key: string) => (typeof extra[key] === 'number' ? extra[key] : undefined);
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

/** Batches in flight at once unless told otherwise: Lambda's default maxConcurrency for an SQS source. */
export const DEFAULT_CONCURRENT_BATCHES = 2;
/** Most batches in flight at once (ten batches of ten is already more than one process should hold). */
export const MAX_CONCURRENT_BATCHES = 10;

export interface LocalConsumerOptions {
  queue: LocalQueue;
  handler: BatchHandler;
  /** How long a received batch stays hidden (the queue's VisibilityTimeout). */
  visibilityTimeoutSeconds: number;
  /** Records per batch, 1-10 (the event source mapping's BatchSize). Default 10. */
  batchSize?: number;
  /**
   * Batches handed to the handler at once, 1-10 (the event source mapping's maxConcurrency): the
   * next batch starts while the slowest job of the previous one still runs. Default 2.
   */
  concurrentBatches?: number;
  log: Log;
  /** Told about each batch before the handler runs (names the jobs in its log lines). */
  reporter?: JobReporter;
  clock?: Clock;
  /** Longest sleep when nothing is due: jobs queued by another process are seen this late. Default 2 s. */
  idlePollMs?: number;
}

/** What a stop left behind. */
export interface StopReport {
  /** Messages of unfinished batches handed back to the queue. */
  returned: number;
}

type Abandon = { kind: 'abandon' };

/** How one batch ended: settled from the handler's answer, or given up when the grace period ran out. */
type BatchEnd = { kind: 'settled' } | { kind: 'abandoned'; unfinished: number; returned: number };

export class LocalConsumer {
  private running = false;
  private stopping = false;
  private loop: Promise<StopReport> | undefined;
  /** Batches handed to the handler, neither settled nor abandoned yet. */
  private readonly inFlight = new Set<Promise<BatchEnd>>();
  private wakeSleeper: (() => void) | undefined;
  /** A wake-up that came while the loop was not asleep: its next sleep returns at once. */
  private wakePending = false;
  private abandon: ((value: Abandon) => void) | undefined;
  private readonly abandoned: Promise<Abandon>;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly clock: Clock;
  private readonly concurrentBatches: number;
  private batches = 0;

  constructor(private readonly options: LocalConsumerOptions) {
    this.clock = options.clock ?? systemClock;
    this.concurrentBatches = options.concurrentBatches ?? DEFAULT_CONCURRENT_BATCHES;
    if (
      !Number.isInteger(this.concurrentBatches) ||
      this.concurrentBatches < 1 ||
      this.concurrentBatches > MAX_CONCURRENT_BATCHES
    ) {
      throw new RangeError(
        `concurrentBatches must be an integer from 1 to ${MAX_CONCURRENT_BATCHES} (got ${this.concurrentBatches})`,
      );
    }
    this.abandoned = new Promise<Abandon>((resolve) => (this.abandon = resolve));
  }

  /** Batches handled so far (started, finished or not). */
  get batchCount(): number {
    return this.batches;
  }

  /** Batches in the handler's hands right now. */
  get batchesInFlight(): number {
    return this.inFlight.size;
  }

  start(): void {
    if (this.running || this.stopping) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Something was queued: poll now rather than at the end of the current sleep. */
  wake(): void {
    if (this.wakeSleeper) this.wakeSleeper();
    else this.wakePending = true;
  }

  /**
   * Stops polling. The batches in flight may finish within `graceMs`; after that their messages
   * go back to the queue. Calling again with a shorter grace (a second Ctrl-C) shortens the wait.
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

  /**
   * Keeps up to `concurrentBatches` batches in the handler's hands, as Lambda's pollers do, so
   * that one slow job does not hold back the jobs queued behind its batch.
   */
  private async run(): Promise<StopReport> {
    const idlePollMs = this.options.idlePollMs ?? 2_000;
    while (!this.stopping) {
      if (this.inFlight.size >= this.concurrentBatches) {
        // Every batch slot is taken: the end of a batch (or a stop) wakes the loop.
        await this.sleep(idlePollMs);
        continue;
      }
      const polled = this.poll(idlePollMs);
      if (Array.isArray(polled)) this.launch(polled);
      else await this.sleep(polled.sleepMs);
    }
    return this.drain();
  }

  /** Receives a batch, or says how long to sleep when nothing is visible (or the queue failed). */
  private poll(idlePollMs: number): ReceivedMessage[] | { sleepMs: number } {
    const { queue } = this.options;
    try {
      // Asked before receiving: a message that becomes visible between the two calls is then either
      // received or counted in `next`, never missed until the idle poll.
      const next = queue.nextVisibleAtMs();
      const messages = queue.receive(this.options.batchSize ?? 10, this.options.visibilityTimeoutSeconds);
      if (messages.length > 0) return messages;
      const now = this.clock.now().getTime();
      return { sleepMs: next === undefined ? idlePollMs : Math.min(idlePollMs, Math.max(5, next - now)) };
    } catch (error) {
      this.options.log.error('Polling the local queue failed; trying again shortly', {
        error: error instanceof Error ? error.message : String(error),
      });
      return { sleepMs: 1_000 };
    }
  }

  private launch(messages: ReceivedMessage[]): void {
    this.batches += 1;
    const batch: Promise<BatchEnd> = this.handleBatch(messages)
      .catch((error: unknown): BatchEnd => {
        // The messages stay hidden: they come back after the visibility timeout, nothing is lost.
        this.options.log.error(
          'Settling a batch with the local queue failed; its jobs are delivered again after QUEUE_VISIBILITY_SECONDS',
          { messages: messages.length, error: error instanceof Error ? error.message : String(error) },
        );
        return { kind: 'settled' };
      })
      .finally(() => {
        this.inFlight.delete(batch);
        // A batch slot is free, and the batch may have changed when the next message is due.
        this.wake();
      });
    this.inFlight.add(batch);
  }

  private async handleBatch(messages: ReceivedMessage[]): Promise<BatchEnd> {
    const { queue, reporter } = this.options;
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
      return { kind: 'abandoned', unfinished: messages.length, returned };
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
    return { kind: 'settled' };
  }

  /** After a stop: waits for the batches in flight, each finishing or handed back at the end of the grace. */
  private async drain(): Promise<StopReport> {
    let unfinished = 0;
    let returned = 0;
    for (const end of await Promise.all([...this.inFlight])) {
      if (end.kind !== 'abandoned') continue;
      unfinished += end.unfinished;
      returned += end.returned;
    }
    if (unfinished > 0) {
      this.options.log.warn(
        `Stopped with ${unfinished} job(s) unfinished: ${returned} handed back to the queue for the next start`,
      );
    }
    return { returned };
  }

  private sleep(ms: number): Promise<void> {
    if (this.wakePending) {
      this.wakePending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wakeSleeper === done) this.wakeSleeper = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeSleeper = done;
    });
  }
}
