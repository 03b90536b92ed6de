/**
 * The jobs queue between ingest and enrich, and its dead-letter queue. Both are encrypted (SQS
 * managed keys) and refuse non-TLS requests.
 */
import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The longest SQS keeps a message: room to inspect and redrive failed jobs. */
export const DEAD_LETTER_RETENTION = Duration.days(14);
/** lib/jobs/envelope.ts MAX_INLINE_BYTES is sized against this. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

export interface JobQueuesProps {
  /** Deliveries of one message before it moves to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /** At least six times the consumer's timeout plus its batching window (AWS guidance). */
  readonly visibilityTimeout: Duration;
}

export class JobQueues extends Construct {
  readonly jobs: sqs.Queue;
  readonly deadLetters: sqs.Queue;

  constructor(scope: Construct, id: string, props: JobQueuesProps) {
    super(scope, id);

    this.deadLetters = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DEAD_LETTER_RETENTION,
      maxMessageSizeBytes: MAX_MESSAGE_BYTES,
    });

    this.jobs = new sqs.Queue(this, 'Jobs', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: Duration.days(4),
      maxMessageSizeBytes: MAX_MESSAGE_BYTES,
      deadLetterQueue: { queue: this.deadLetters, maxReceiveCount: props.maxReceiveCount },
    });
  }
}
