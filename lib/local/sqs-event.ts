/**
 * The local stand-in for Lambda's SQS event source mapping: turns a received batch into the
 * `SQSEvent` Lambda would pass to functions/enrich, and settles the handler's answer against the
 * queue the way Lambda does with ReportBatchItemFailures on:
 *  - records not listed in `batchItemFailures` are deleted;
 *  - listed records are left alone, so they reappear when their visibility timeout ends;
 *  - a handler that throws, or answers with a malformed failure list, fails the whole batch:
 *    nothing is deleted and every record reappears after the visibility timeout.
 */
import { createHash } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { LocalQueue, ReceivedMessage } from './queue';

export const LOCAL_REGION = 'local';
export const LOCAL_ACCOUNT_ID = '000000000000';

export function queueArn(queueName: string): string {
  return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${queueName}`;
}

export function md5Hex(body: string): string {
  return createHash('md5').update(body, 'utf8').digest('hex');
}

export function toSqsRecord(queueName: string, message: ReceivedMessage): SQSRecord {
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentAtMs),
      SenderId: LOCAL_ACCOUNT_ID,
      ApproximateFirstReceiveTimestamp: String(message.firstReceivedAtMs),
    },
    messageAttributes: {},
    md5OfBody: md5Hex(message.body),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn(queueName),
    awsRegion: LOCAL_REGION,
  };
}

export function toSqsEvent(queueName: string, messages: readonly ReceivedMessage[]): SQSEvent {
  return { Records: messages.map((message) => toSqsRecord(queueName, message)) };
}

/** What the handler did with the event: answered (any value, as Lambda sees JSON) or threw. */
export type HandlerResult = { kind: 'returned'; response: unknown } | { kind: 'threw'; error: unknown };

/** How Lambda reads the handler's answer. */
export type BatchVerdict =
  | { kind: 'success' }
  | { kind: 'partial'; failedMessageIds: string[] }
  /** Nothing is deleted; `error` is what the handler threw, if it threw. */
  | { kind: 'failure'; reason: string; error?: unknown };

export interface BatchSettlement {
  verdict: BatchVerdict;
  /** Message ids deleted from the queue. */
  deleted: string[];
  /** Message ids left in flight, to be delivered again once their visibility timeout ends. */
  retried: string[];
  /**
   * Message ids that should have been deleted but whose receipt handle was stale: the handler
   * outlived the visibility timeout and the message was received again meanwhile.
   */
  stale: string[];
}

/**
 * Reads a handler's answer as Lambda does: no answer, an empty object or an empty/null list is
 * success; a failure entry whose itemIdentifier is missing, empty or not a message id of the
 * batch makes the whole batch a failure.
 */
export function readBatchResponse(event: SQSEvent, result: HandlerResult): BatchVerdict {
  if (result.kind === 'threw') {
    const message = result.error instanceof Error ? result.error.message : String(result.error);
    return { kind: 'failure', reason: `the handler threw: ${message}`, error: result.error };
  }
  const response = result.response;
  if (response === undefined || response === null) return { kind: 'success' };
  if (typeof response !== 'object' || Array.isArray(response)) {
    return {
      kind: 'failure',
      reason: 'the handler answered something other than an SQSBatchResponse object',
    };
  }
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'success' };
  if (!Array.isArray(failures)) return { kind: 'failure', reason: 'batchItemFailures is not a list' };
  const batchIds = new Set(event.Records.map((record) => record.messageId));
  const failedMessageIds = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '') {
      return { kind: 'failure', reason: 'a batchItemFailures entry has no itemIdentifier' };
    }
    if (!batchIds.has(id)) {
      return {
        kind: 'failure',
        reason: `batchItemFailures names ${id}, which is not a message of this batch`,
      };
    }
    failedMessageIds.add(id);
  }
  return failedMessageIds.size === 0
    ? { kind: 'success' }
    : { kind: 'partial', failedMessageIds: [...failedMessageIds] };
}

/** Applies the handler's answer to the queue: deletes what Lambda would delete, leaves the rest. */
export function settleBatch(
  queue: Pick<LocalQueue, 'delete'>,
  event: SQSEvent,
  result: HandlerResult,
): BatchSettlement {
  const verdict = readBatchResponse(event, result);
  const keep =
    verdict.kind === 'failure'
      ? new Set(event.Records.map((record) => record.messageId))
      : new Set(verdict.kind === 'partial' ? verdict.failedMessageIds : []);
  const settlement: BatchSettlement = { verdict, deleted: [], retried: [], stale: [] };
  for (const record of event.Records) {
    if (keep.has(record.messageId)) settlement.retried.push(record.messageId);
    else if (queue.delete(record.receiptHandle)) settlement.deleted.push(record.messageId);
    else settlement.stale.push(record.messageId);
  }
  return settlement;
}

export type SqsBatchHandler = (event: SQSEvent) => Promise<unknown>;

export interface PollOptions {
  /** Records per event, 1–10 (the event source mapping's BatchSize). Default 10. */
  batchSize?: number;
  /** How long a delivered batch stays hidden (the queue's VisibilityTimeout). */
  visibilityTimeoutSeconds: number;
}

/**
 * One poll of the event source mapping: receives a batch, invokes the handler with it and settles
 * the answer. Returns undefined when no message was visible (the handler is not invoked).
 */
export async function pollOnce(
  queue: LocalQueue,
  handler: SqsBatchHandler,
  options: PollOptions,
): Promise<{ event: SQSEvent; settlement: BatchSettlement } | undefined> {
  const messages = queue.receive(options.batchSize ?? 10, options.visibilityTimeoutSeconds);
  if (messages.length === 0) return undefined;
  const event = toSqsEvent(queue.name, messages);
  let result: HandlerResult;
  try {
    // The handler gets its own copy: what it does to the event cannot change what is settled.
    result = { kind: 'returned', response: await handler(structuredClone(event)) };
  } catch (error) {
    result = { kind: 'threw', error };
  }
  return { event, settlement: settleBatch(queue, event, result) };
}
