/**
 * The ingest function's AWS wiring: credentials from Secrets Manager (re-read through the
 * five-minute cache, so a rotated token is honoured without a redeploy), SQS + S3 for the jobs,
 * Powertools logs and metrics.
 *
 * The OpenCTI 7.x callback JWT is verified with the JWKS the schedule stored in the ledger
 * (platform#info), read at most once a minute per warm function.
 *
 * Environment (set by the stack): QUEUE_URL, PAYLOAD_BUCKET, SECRET_ARN, TABLE_NAME, CONNECTOR_SCOPE.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { DynamoLedger } from '../../lib/aws/dynamo-ledger';
import { createObservability, requiredEnv, secretIdOf } from '../../lib/aws/runtime';
import { loadSecrets } from '../../lib/aws/secrets';
import { lazyS3Client } from '../../lib/aws/s3-job-store';
import { SqsJobQueue } from '../../lib/aws/sqs-job-queue';
import { loadConfig } from '../../lib/config';
import { cachedJwks, createCallbackAuthenticator } from '../../lib/opencti/callback-auth';
import { systemClock } from '../../lib/core/clock';
import { createIngestHandler } from './handler';

export function awsIngestHandler(
  env: Record<string, string | undefined> = process.env,
): (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult> {
  const { logger, log, metrics } = createObservability(env);
  const secretId = secretIdOf(env);
  // Ingest only needs the scope: neither Criminal IP nor OpenCTI is called from here.
  const config = loadConfig(env, { criminalIp: false, opencti: false });
  const queue = new SqsJobQueue({
    sqs: new SQSClient({}),
    s3: lazyS3Client,
    queueUrl: requiredEnv(env, 'QUEUE_URL', 'the URL of the jobs queue'),
    bucket: requiredEnv(env, 'PAYLOAD_BUCKET', 'the bucket holding jobs too large for a message'),
  });
  const ledger = new DynamoLedger({
    doc: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    tableName: requiredEnv(env, 'TABLE_NAME', 'the DynamoDB ledger table (it holds the OpenCTI JWKS)'),
    log,
  });
  const jwks = cachedJwks({
    read: async () => (await ledger.getPlatform())?.jwks,
    clock: systemClock,
  });
  const ingest = createIngestHandler({
    connectorTokens: async () => {
      const secrets = await loadSecrets(secretId);
      return { openctiToken: secrets.openctiToken, webhookToken: secrets.webhookToken };
    },
    queue,
    scope: config.opencti.scope,
    log,
    metrics,
    clock: systemClock,
    callbackAuth: createCallbackAuthenticator({ jwks, clock: systemClock }),
  });
  return async (event, context) => {
    logger.addContext(context);
    try {
      return await ingest(event, context);
    } finally {
      metrics.flush();
    }
  };
}
