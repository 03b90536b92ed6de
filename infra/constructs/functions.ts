/**
 * The three Lambda functions (functions/{ingest,enrich,schedule}/lambda.ts), each with its own
 * log group and its own role holding only what that function does.
 *
 * Bundling: local esbuild (no Docker), CommonJS. The project is CommonJS throughout (tsconfig,
 * the test runner), so the bundle keeps the module semantics the tests exercise (`require`,
 * `__dirname`) with no createRequire banner. The AWS SDK v3 is left to the nodejs24.x runtime,
 * which ships it: bundled, each SDK client adds some 300 KB to load on every cold start, and the
 * bundles must stay under 1 MB.
 */
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_SERVICE_NAME } from '../../lib/aws/observability';
import { acknowledge } from '../nag';
import type { StackSettings } from '../settings';
import type { Storage } from './storage';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** `service` dimension of every custom metric and the Powertools logger's service name. */
export const SERVICE_NAME = DEFAULT_SERVICE_NAME;

export const INGEST_TIMEOUT = Duration.seconds(10);
export const ENRICH_TIMEOUT = Duration.seconds(30);
export const SCHEDULE_TIMEOUT = Duration.seconds(60);
export const ENRICH_BATCH_SIZE = 10;
export const ENRICH_BATCHING_WINDOW = Duration.seconds(5);

/** AWS guidance for an SQS event source: six times the function timeout plus the batching window. */
export const QUEUE_VISIBILITY_TIMEOUT = Duration.seconds(
  6 * ENRICH_TIMEOUT.toSeconds() + ENRICH_BATCHING_WINDOW.toSeconds(),
);

/**
 * Non-secret settings every function reads through lib/config. Secrets are never here: the
 * functions read them from Secrets Manager (SECRET_ARN).
 */
export function connectorEnvironment(settings: StackSettings): Record<string, string> {
  return {
    ...settings.settings,
    OPENCTI_URL: settings.openctiUrl,
    CONNECTOR_ID: settings.connectorId,
    CONNECTOR_NAME: settings.connectorName,
    CONNECTOR_SCOPE: settings.scope.join(','),
    CONNECTOR_AUTO: String(settings.auto),
    CRIMINALIP_MAX_TLP: settings.maxTlp,
    INDICATOR_THRESHOLD: settings.indicatorThreshold,
    PHISHING_THRESHOLD: String(settings.phishingThreshold),
    REENRICH_STALE_DAYS: String(settings.staleDays),
    REENRICH_BUDGET: String(settings.reenrichBudget),
    QUEUE_MAX_RECEIVE_COUNT: String(settings.maxReceiveCount),
    QUEUE_VISIBILITY_SECONDS: String(QUEUE_VISIBILITY_TIMEOUT.toSeconds()),
    LOG_LEVEL: settings.logLevel,
    POWERTOOLS_LOG_LEVEL: settings.logLevel,
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: settings.metricsNamespace,
    // Stack traces point into the TypeScript sources through the bundled source maps.
    NODE_OPTIONS: '--enable-source-maps',
  };
}

interface ConnectorFunctionOptions {
  readonly entry: 'ingest' | 'enrich' | 'schedule';
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  readonly settings: StackSettings;
  readonly reservedConcurrentExecutions?: number;
  /** Retries of an asynchronous invocation (the schedules); unset for synchronous callers. */
  readonly retryAttempts?: number;
}

/** One function: NodejsFunction bundled locally, its log group, a role that may write only there. */
class ConnectorFunction extends Construct {
  readonly fn: nodejs.NodejsFunction;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, options: ConnectorFunctionOptions) {
    super(scope, id);

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: options.settings.logRetentionDays as logs.RetentionDays,
    });

    // An own role instead of AWSLambdaBasicExecutionRole: that managed policy may write to every
    // log group in the account, this one only to the function's own.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `criminalip-opencti ${options.entry} function`,
    });
    logGroup.grantWrite(this.role);

    this.fn = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(PROJECT_ROOT, 'functions', options.entry, 'lambda.ts'),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      description: options.description,
      memorySize: options.memorySize,
      timeout: options.timeout,
      role: this.role,
      logGroup,
      environment: options.environment,
      reservedConcurrentExecutions: options.reservedConcurrentExecutions,
      retryAttempts: options.retryAttempts,
      tracing: options.settings.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      bundling: {
        forceDockerBundling: false,
        format: nodejs.OutputFormat.CJS,
        target: 'node24',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        bundleAwsSDK: false,
      },
    });

    if (options.settings.tracing) {
      acknowledge(
        this.role,
        'AwsSolutions-IAM5[Resource::*]',
        'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions; ' +
          'the statement is added by Lambda active tracing, which the tracing setting turned on.',
      );
    }
  }
}

export interface ConnectorFunctionsProps {
  readonly settings: StackSettings;
  readonly queue: sqs.IQueue;
  readonly storage: Storage;
}

export class ConnectorFunctions extends Construct {
  readonly ingest: nodejs.NodejsFunction;
  readonly enrich: nodejs.NodejsFunction;
  readonly schedule: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: ConnectorFunctionsProps) {
    super(scope, id);
    const { settings, queue, storage } = props;
    const common = connectorEnvironment(settings);
    const secretEnv = { SECRET_ARN: storage.secret.secretArn, SECRET_NAME: storage.secret.secretName };

    const ingest = new ConnectorFunction(this, 'Ingest', {
      entry: 'ingest',
      description: 'criminalip-opencti: authenticates and queues OpenCTI callbacks and webhooks',
      memorySize: 256,
      timeout: INGEST_TIMEOUT,
      settings,
      environment: {
        ...common,
        ...secretEnv,
        QUEUE_URL: queue.queueUrl,
        PAYLOAD_BUCKET: storage.payloads.bucketName,
        // The platform record (OpenCTI 7.x JWKS) the schedule stores: it verifies callback JWTs.
        TABLE_NAME: storage.table.tableName,
      },
    });
    queue.grantSendMessages(ingest.role);
    storage.grantPutPayloads(ingest.role);
    storage.secret.grantRead(ingest.role);
    // Read one item (platform#info), nothing else of the ledger.
    storage.table.grant(ingest.role, 'dynamodb:GetItem');
    this.ingest = ingest.fn;

    const enrich = new ConnectorFunction(this, 'Enrich', {
      entry: 'enrich',
      description:
        'criminalip-opencti: enriches queued observables with Criminal IP and writes back to OpenCTI',
      memorySize: 512,
      timeout: ENRICH_TIMEOUT,
      settings,
      // Caps concurrent calls to Criminal IP together with the event source's maxConcurrency.
      reservedConcurrentExecutions:
        settings.reservedConcurrency === 'none' ? undefined : settings.reservedConcurrency,
      environment: {
        ...common,
        ...secretEnv,
        QUEUE_URL: queue.queueUrl,
        PAYLOAD_BUCKET: storage.payloads.bucketName,
        TABLE_NAME: storage.table.tableName,
      },
    });
    enrich.fn.addEventSource(
      new SqsEventSource(queue, {
        batchSize: ENRICH_BATCH_SIZE,
        maxBatchingWindow: ENRICH_BATCHING_WINDOW,
        reportBatchItemFailures: true,
        maxConcurrency: settings.maxConcurrency,
      }),
    );
    // Re-enqueues jobs (scan polling, retry-later) with a delay.
    queue.grantSendMessages(enrich.role);
    storage.grantReadPayloads(enrich.role);
    storage.grantPutPayloads(enrich.role);
    storage.table.grantReadWriteData(enrich.role);
    storage.secret.grantRead(enrich.role);
    this.enrich = enrich.fn;

    const schedule = new ConnectorFunction(this, 'Schedule', {
      entry: 'schedule',
      description: 'criminalip-opencti: registers and pings the connector, sweeps stale observables',
      memorySize: 256,
      timeout: SCHEDULE_TIMEOUT,
      settings,
      // The next tick repeats the work; a retry would only overlap it. Failures raise the alarm.
      retryAttempts: 0,
      environment: {
        ...common,
        ...secretEnv,
        QUEUE_URL: queue.queueUrl,
        PAYLOAD_BUCKET: storage.payloads.bucketName,
        TABLE_NAME: storage.table.tableName,
      },
    });
    queue.grantSendMessages(schedule.role);
    storage.grantPutPayloads(schedule.role);
    storage.table.grantReadWriteData(schedule.role);
    storage.secret.grantRead(schedule.role);
    this.schedule = schedule.fn;
  }

  get all(): ReadonlyArray<{ name: string; fn: nodejs.NodejsFunction }> {
    return [
      { name: 'Ingest', fn: this.ingest },
      { name: 'Enrich', fn: this.enrich },
      { name: 'Schedule', fn: this.schedule },
    ];
  }
}
