/**
 * The functions are bundled by the local esbuild, never by Docker: with the Docker command
 * pointing nowhere, synth still produces a loadable CommonJS bundle per function.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CriminalIpOpenCtiStack } from '../../infra/stack';
import { startCriminalIpStandIn, STANDIN_API_KEY } from '../../lib/standins/criminalip';
import { startOpenCtiStandIn } from '../../lib/standins/opencti';
import { playbookMessage } from '../functions/events';
import { cdkJsonContext, logicalId, PROJECT_ROOT, removeTempDirs, tempDir } from './support';

afterAll(removeTempDirs);

/** Not the cdk.json examples, so synth prints no placeholder warning. */
const REAL_SETTINGS = {
  openctiUrl: 'https://cti.acme.test',
  connectorId: '7d4c5a3e-9a51-4a53-8e43-2f5b4b1c0c11',
};

describe('NodejsFunction bundling', () => {
  const bundles: Record<string, string> = {};
  const savedDocker = process.env.CDK_DOCKER;

  beforeAll(() => {
    process.env.CDK_DOCKER = path.join(tempDir('no-docker-'), 'docker-is-not-installed');
    try {
      const app = new App({ outdir: tempDir('cdk-bundle-test-'), context: cdkJsonContext() });
      const stack = new CriminalIpOpenCtiStack(app, 'BundleTest', { settings: REAL_SETTINGS });
      const assembly = app.synth();
      const resources = Template.fromStack(stack).toJSON().Resources as Record<
        string,
        { Properties: { Code: { S3Key: string } } }
      >;
      for (const { name, fn } of stack.functions.all) {
        // The asset's S3 key is `<hash>.zip`; the bundle sits in the assembly's `asset.<hash>`.
        const key = resources[logicalId(fn)]?.Properties.Code.S3Key ?? '';
        bundles[name] = path.join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`);
      }
    } finally {
      if (savedDocker === undefined) delete process.env.CDK_DOCKER;
      else process.env.CDK_DOCKER = savedDocker;
    }
  });

  it.each(['Ingest', 'Enrich', 'Schedule'])('bundles %s into index.js with its source map', (name) => {
    const dir = bundles[name] as string;
    expect(fs.readdirSync(dir).sort()).toEqual(['index.js', 'index.js.map']);
    const code = fs.readFileSync(path.join(dir, 'index.js'), 'utf8');
    // CommonJS output: no ESM syntax and no createRequire banner.
    expect(code).toContain('module.exports');
    expect(code).not.toMatch(/^import /m);
    expect(code).toMatch(/\/\/# sourceMappingURL=index\.js\.map\s*$/);
  });

  it('bundles that load on Node 24 and export handler()', () => {
    // A child process, where the AWS SDK stays external as in Lambda and resolves from node_modules.
    const check = `for (const f of ${JSON.stringify(Object.values(bundles).map((d) => path.join(d, 'index.js')))}) {
      if (typeof require(f).handler !== 'function') { console.error(f + ' exports no handler'); process.exit(3); }
    }`;
    const result = spawnSync(process.execPath, ['-e', check], {
      env: { ...process.env, NODE_PATH: path.join(PROJECT_ROOT, 'node_modules') },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('store a large job aside and read it back with stock Node 24 and the runtime SDK packages', async () => {
    // The ingest bundle stores a 1.2 MB playbook job in S3 and queues a reference; the enrich bundle reads it back
    // and answers the step. Both run in a plain `node` whose only other modules are the SDK packages on NODE_PATH
    // (as the nodejs24.x runtime ships them): an ES-module `import()` of the SDK in a bundle would fail here with
    // ERR_MODULE_NOT_FOUND, as it does outside Lambda.
    const cip = await startCriminalIpStandIn();
    const octi = await startOpenCtiStandIn({ token: 'octi-bundle-token', knownConnectors: [] });
    try {
      const dir = tempDir('store-aside-');
      const script = path.join(dir, 'store-aside.cjs');
      fs.writeFileSync(script, STORE_ASIDE_SCRIPT);
      fs.writeFileSync(path.join(dir, 'message.json'), JSON.stringify(playbookMessage(1_200_000)));
      const result = await runNode(script, {
        NODE_PATH: path.join(PROJECT_ROOT, 'node_modules'),
        INGEST_BUNDLE: path.join(bundles.Ingest as string, 'index.js'),
        ENRICH_BUNDLE: path.join(bundles.Enrich as string, 'index.js'),
        MESSAGE_FILE: path.join(dir, 'message.json'),
        OPENCTI_URL: octi.url,
        CRIMINALIP_API_URL: cip.url,
        CRIMINALIP_API_KEY_VALUE: STANDIN_API_KEY,
        OPENCTI_TOKEN_VALUE: 'octi-bundle-token',
      });
      expect(result.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find module/);
      expect(result.status).toBe(0);
      const report = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
      expect(report).toMatchObject({
        ingestStatus: 202,
        storedAside: 1,
        queuedReference: true,
        readBack: 1,
        batchItemFailures: [],
      });
      const [answer] = octi.playbookAnswers();
      expect(answer?.bundle.objects.length).toBeGreaterThan(1000);
    } finally {
      await cip.close();
      await octi.close();
    }
  });
});

function runNode(
  script: string,
  env: Record<string, string>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Runs in the child: the AWS clients mocked with aws-sdk-client-mock, Criminal IP and OpenCTI stand-ins on loopback. */
const STORE_ASIDE_SCRIPT = String.raw`
const fs = require('node:fs');
const { mockClient } = require('aws-sdk-client-mock');
const { S3Client, PutObjectCommand, GetObjectCommand } = require('@aws-sdk/client-s3');
const { SQSClient, SendMessageBatchCommand } = require('@aws-sdk/client-sqs');
const { SecretsManagerClient, GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager');
const { DynamoDBDocumentClient, GetCommand, PutCommand, DeleteCommand } = require('@aws-sdk/lib-dynamodb');

Object.assign(process.env, {
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:cip-AbCdEf',
  QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/jobs',
  PAYLOAD_BUCKET: 'payloads',
  TABLE_NAME: 'ledger',
  CONNECTOR_ID: '7d4c5a3e-9a51-4a53-8e43-2f5b4b1c0c11',
  CONNECTOR_SCOPE: 'IPv4-Addr',
  CONNECTOR_CALLBACK_URL: 'https://api.example.com/prod/opencti/callback',
  QUEUE_MAX_RECEIVE_COUNT: '3',
});

const objects = new Map();
const s3 = mockClient(S3Client);
s3.on(PutObjectCommand).callsFake((input) => { objects.set(input.Key, input.Body); return {}; });
s3.on(GetObjectCommand).callsFake((input) => {
  const body = objects.get(input.Key);
  return { Body: { transformToString: async () => body } };
});
const sent = [];
mockClient(SQSClient).on(SendMessageBatchCommand).callsFake((input) => {
  sent.push(...input.Entries);
  return { Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: e.Id, MD5OfMessageBody: 'x' })), Failed: [] };
});
mockClient(SecretsManagerClient).on(GetSecretValueCommand).resolves({
  SecretString: JSON.stringify({
    CRIMINALIP_API_KEY: process.env.CRIMINALIP_API_KEY_VALUE,
    OPENCTI_TOKEN: process.env.OPENCTI_TOKEN_VALUE,
    WEBHOOK_TOKEN: 'hook-1',
  }),
});
const items = new Map();
const dynamo = mockClient(DynamoDBDocumentClient);
dynamo.on(GetCommand).callsFake((input) => ({ Item: items.get(input.Key.pk) }));
dynamo.on(PutCommand).callsFake((input) => { items.set(input.Item.pk, input.Item); return {}; });
dynamo.on(DeleteCommand).callsFake((input) => { items.delete(input.Key.pk); return {}; });

const context = {
  functionName: 'fn', functionVersion: '$LATEST', awsRequestId: 'req-1', memoryLimitInMB: '256',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:fn',
  getRemainingTimeInMillis: () => 60000,
};

(async () => {
  const body = fs.readFileSync(process.env.MESSAGE_FILE, 'utf8');
  const ingest = await require(process.env.INGEST_BUNDLE).handler({
    resource: '/opencti/callback', path: '/opencti/callback', httpMethod: 'POST',
    headers: { Authorization: 'Bearer ' + process.env.OPENCTI_TOKEN_VALUE, 'Content-Type': 'application/json' },
    multiValueHeaders: {}, queryStringParameters: null, multiValueQueryStringParameters: null,
    pathParameters: null, stageVariables: null, isBase64Encoded: false, body,
    requestContext: { requestId: 'api-1', stage: 'prod', identity: { sourceIp: '127.0.0.1' } },
  }, context);
  const records = sent.map((entry, i) => ({
    messageId: 'm-' + i, receiptHandle: 'rh-' + i, body: entry.MessageBody,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 's', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {}, md5OfBody: 'x', eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:jobs', awsRegion: 'eu-west-1',
  }));
  const enriched = await require(process.env.ENRICH_BUNDLE).handler({ Records: records }, context);
  console.log(JSON.stringify({
    ingestStatus: ingest.statusCode,
    storedAside: s3.commandCalls(PutObjectCommand).length,
    queuedReference: sent.length === 1 && sent[0].MessageBody.length < 10000,
    readBack: s3.commandCalls(GetObjectCommand).length,
    batchItemFailures: enriched.batchItemFailures,
  }));
})().catch((error) => { console.error(error); process.exit(1); });
`;
