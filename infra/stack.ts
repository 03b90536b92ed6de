/**
 * The whole connector in one stack: API Gateway → ingest → SQS → enrich, the schedules, the
 * state it keeps and the alarms. Environment-agnostic (no account or region), so it synthesizes
 * without AWS credentials and deploys to whatever `cdk deploy` targets.
 */
import { Annotations, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { IngestApi } from './constructs/api';
import { loadConfig } from '../lib/config';
import {
  ConnectorFunctions,
  connectorEnvironment,
  QUEUE_VISIBILITY_TIMEOUT,
  SERVICE_NAME,
} from './constructs/functions';
import { Monitoring } from './constructs/monitoring';
import { DEAD_LETTER_RETENTION, JobQueues } from './constructs/queue';
import { ConnectorSchedules } from './constructs/schedules';
import { Storage } from './constructs/storage';
import {
  resolveStackSettings,
  usesPlaceholders,
  type SettingKey,
  type StackSettings,
  type StackSettingsInput,
} from './settings';

export interface CriminalIpOpenCtiStackProps extends StackProps {
  /** Settings that take precedence over the CDK context (same keys and rules as cdk.json). */
  readonly settings?: StackSettingsInput;
}

export class CriminalIpOpenCtiStack extends Stack {
  readonly settings: StackSettings;
  readonly queues: JobQueues;
  readonly storage: Storage;
  readonly functions: ConnectorFunctions;
  readonly ingestApi: IngestApi;
  readonly schedules: ConnectorSchedules;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: CriminalIpOpenCtiStackProps = {}) {
    super(scope, id, {
      description: 'criminalip-opencti: Criminal IP enrichment connector for OpenCTI',
      ...props,
    });
    const settings = resolveStackSettings(
      (key: SettingKey) => props.settings?.[key] ?? this.node.tryGetContext(key),
    );
    this.settings = settings;
    if (usesPlaceholders(settings)) {
      Annotations.of(this).addWarningV2(
        'criminalip-opencti:placeholders',
        'openctiUrl or connectorId still holds the cdk.json example value: set your own before deploying (docs/deploy.md).',
      );
    }

    this.queues = new JobQueues(this, 'Queues', {
      maxReceiveCount: settings.maxReceiveCount,
      visibilityTimeout: QUEUE_VISIBILITY_TIMEOUT,
    });
    this.storage = new Storage(this, 'Storage', { deadLetterRetention: DEAD_LETTER_RETENTION });
    this.functions = new ConnectorFunctions(this, 'Functions', {
      settings,
      queue: this.queues.jobs,
      storage: this.storage,
    });
    this.ingestApi = new IngestApi(this, 'Ingest', {
      handler: this.functions.ingest,
      rateLimit: settings.apiRateLimit,
      burstLimit: settings.apiBurstLimit,
      tracing: settings.tracing,
      logRetentionDays: settings.logRetentionDays,
    });
    // Registered with OpenCTI as listen_callback_uri. Not given to ingest: the API depends on
    // that function, so the reference would be circular.
    for (const fn of [this.functions.schedule, this.functions.enrich]) {
      fn.addEnvironment('CONNECTOR_CALLBACK_URL', this.ingestApi.callbackUrl);
    }
    this.schedules = new ConnectorSchedules(this, 'Schedules', {
      handler: this.functions.schedule,
      pingRate: settings.pingRate,
      reenrichRate: settings.reenrichRate,
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      queue: this.queues.jobs,
      deadLetters: this.queues.deadLetters,
      functions: this.functions.all,
      api: this.ingestApi.api,
      metricsNamespace: settings.metricsNamespace,
      serviceName: SERVICE_NAME,
      alarmEmail: settings.alarmEmail,
      // The functions read the budget through lib/config: the alarm uses the same values.
      budget: loadConfig(connectorEnvironment(settings), { criminalIp: false, opencti: false }).budget,
    });

    const output = (name: string, value: string, description: string) =>
      new CfnOutput(this, name, { value, description });
    output('CallbackUrl', this.ingestApi.callbackUrl, 'OpenCTI worker callback (registered automatically)');
    output('WebhookUrl', this.ingestApi.webhookUrl, 'URL for the OpenCTI Generic webhook notifier');
    output('HealthUrl', this.ingestApi.healthUrl, 'Health check');
    output('SecretArn', this.storage.secret.secretArn, 'Store CRIMINALIP_API_KEY and OPENCTI_TOKEN here');
    output('QueueUrl', this.queues.jobs.queueUrl, 'Jobs queue');
    output(
      'DlqUrl',
      this.queues.deadLetters.queueUrl,
      'Dead-letter queue: failed jobs to inspect and redrive',
    );
    output('DashboardName', this.monitoring.dashboard.dashboardName, 'CloudWatch dashboard');
  }
}
