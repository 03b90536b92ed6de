/**
 * The enrich function's AWS wiring: SQS (re-queue), S3 (large jobs), DynamoDB (ledger and the
 * cross-instance Criminal IP call slots), Secrets Manager (credentials), Powertools logs and
 * metrics, and the HTTP clients of Criminal IP and OpenCTI.
 *
 * Environment (set by the stack): QUEUE_URL, PAYLOAD_BUCKET, TABLE_NAME, SECRET_ARN, the
 * lib/config variables, and optionally ENRICH_CONCURRENCY (records of a batch run at once).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DynamoLease } from '../../lib/aws/dynamo-lease';
import { DynamoLedger } from '../../lib/aws/dynamo-ledger';
import {
  configWithSecrets,
  createObservability,
  intEnv,
  rebuildOnRotation,
  requiredEnv,
  secretIdOf,
} from '../../lib/aws/runtime';
import { lazyS3Client } from '../../lib/aws/s3-job-store';
import { SqsJobQueue } from '../../lib/aws/sqs-job-queue';
import { createOpenCtiClient } from '../../lib/opencti/client';
import { createOpenCtiPort } from '../../lib/opencti/port';
import { CallBudget } from '../../lib/pipeline/budget';
import { systemClock } from '../../lib/core/clock';
import { criminalIpStack } from '../../lib/pipeline/intel-stack';
import { errorSummary } from '../../lib/core/log';
import { createEnrichHandler } from './handler';

/** How long a record may wait for a Criminal IP call slot held by another instance. */
const SLOT_WAIT_MS = 2_000;

export function awsEnrichHandler(
  env: Record<string, string | undefined> = process.env,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const { logger, log, metrics } = createObservability(env);
  const secretId = secretIdOf(env);
  const queueUrl = requiredEnv(env, 'QUEUE_URL', 'the URL of the jobs queue');
  const bucket = requiredEnv(env, 'PAYLOAD_BUCKET', 'the bucket holding jobs too large for a message');
  const tableName = requiredEnv(env, 'TABLE_NAME', 'the DynamoDB ledger table');
  const concurrency = intEnv(env, 'ENRICH_CONCURRENCY', 4, 1, 10);

  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const queue = new SqsJobQueue({ sqs: new SQSClient({}), s3: lazyS3Client, queueUrl, bucket });
  const ledger = new DynamoLedger({ doc, tableName, log });
  const lease = new DynamoLease({ doc, tableName });
  let remainingMs: () => number = () => Number.POSITIVE_INFINITY;

  const current = rebuildOnRotation(secretId, (secrets) => {
    const config = configWithSecrets(env, secrets);
    const intel = criminalIpStack({
      settings: config.criminalIp,
      shared: { lease, ledger, slotWaitMs: SLOT_WAIT_MS },
      clock: systemClock,
      log,
      metrics,
      client: { remainingMs: () => remainingMs() },
    });
    const opencti = createOpenCtiClient(config.opencti, { log });
    return createEnrichHandler({
      config,
      intel,
      opencti: createOpenCtiPort(opencti, config.opencti),
      openctiForDraft: (draftId) => createOpenCtiPort(opencti, config.opencti, { draftId }),
      ledger,
      // Claims on the table: one delivery of a job and one lookup of an observable at a time.
      lease,
      // Every Criminal IP call counted on the table first, within CRIMINALIP_*_CALL_BUDGET.
      budget: new CallBudget({ store: ledger, settings: config.budget, clock: systemClock, metrics }),
      clock: systemClock,
      log,
      metrics,
      queue,
      maxReceiveCount: config.queue.maxReceiveCount,
      concurrency,
      loadJob: (ref) => queue.loadRef(ref),
      acknowledge: (record) => queue.acknowledge(record.receiptHandle),
    });
  });

  return async (event, context) => {
    logger.addContext(context);
    remainingMs = () => context.getRemainingTimeInMillis();
    try {
      const enrich = await current().catch((error: unknown) => {
        // Without configuration nothing can be processed: the whole batch fails and is retried.
        log.error('The enrich function cannot start', errorSummary(error));
        throw error;
      });
      return await enrich(event, context);
    } finally {
      metrics.flush();
    }
  };
}
