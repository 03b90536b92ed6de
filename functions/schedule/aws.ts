/**
 * The schedule function's AWS wiring: OpenCTI client (token from Secrets Manager), DynamoDB
 * ledger (registration mark), SQS queue (sweep jobs), Powertools logs and metrics.
 *
 * Environment (set by the stack): QUEUE_URL, PAYLOAD_BUCKET, TABLE_NAME, SECRET_ARN and the
 * lib/config variables.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { DynamoLedger } from '../../lib/aws/dynamo-ledger';
import {
  configWithSecrets,
  createObservability,
  rebuildOnRotation,
  requiredEnv,
  secretIdOf,
} from '../../lib/aws/runtime';
import { lazyS3Client } from '../../lib/aws/s3-job-store';
import { SqsJobQueue } from '../../lib/aws/sqs-job-queue';
import { CriminalIpApi, CriminalIpClient } from '../../lib/criminalip';
import { createOpenCtiClient } from '../../lib/opencti/client';
import { systemClock } from '../../lib/core/clock';
import { CallBudget } from '../../lib/pipeline/budget';
import { errorSummary } from '../../lib/core/log';
import { createScheduleHandler, type ScheduleResult, type ScheduleTask } from './handler';

export function awsScheduleHandler(
  env: Record<string, string | undefined> = process.env,
): (event: { task: ScheduleTask }, context: Context) => Promise<ScheduleResult> {
  const { logger, log, metrics } = createObservability(env);
  const secretId = secretIdOf(env);
  const queueUrl = requiredEnv(env, 'QUEUE_URL', 'the URL of the jobs queue');
  const bucket = requiredEnv(env, 'PAYLOAD_BUCKET', 'the bucket holding jobs too large for a message');
  const tableName = requiredEnv(env, 'TABLE_NAME', 'the DynamoDB ledger table');

  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const queue = new SqsJobQueue({ sqs: new SQSClient({}), s3: lazyS3Client, queueUrl, bucket });
  const ledger = new DynamoLedger({ doc, tableName, log });

  const current = rebuildOnRotation(secretId, (secrets) => {
    // The schedule only asks Criminal IP for the credits left while the quota pause is on.
    const config = configWithSecrets(env, secrets, { criminalIp: false });
    const account = config.criminalIp.apiKey
      ? (() => {
          // No retries: the next ping asks again (and the schedule function's time is short).
          const api = new CriminalIpApi(
            new CriminalIpClient({ ...config.criminalIp, maxRetries: 0 }, { log }),
          );
          return () => api.account();
        })()
      : undefined;
    return createScheduleHandler({
      config,
      ...(account ? { account } : {}),
      opencti: createOpenCtiClient(config.opencti, { log }),
      ledger,
      queue,
      clock: systemClock,
      log,
      metrics,
      budget: new CallBudget({ store: ledger, settings: config.budget, clock: systemClock, metrics }),
    });
  });

  return async (event, context) => {
    logger.addContext(context);
    try {
      const result = await (await current())(event);
      log.info('Schedule task done', { ...result });
      return result;
    } catch (error) {
      log.error('Schedule task failed', {
        task: event?.task,
        ...errorSummary(error),
      });
      throw error;
    } finally {
      metrics.flush();
    }
  };
}
