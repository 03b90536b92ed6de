/**
 * The synthesized template of the default stack (cdk.json context): one synth, many assertions.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { loadConfig, SECRET_VARIABLES } from '../../lib/config';
import { LEDGER_KEY, LEDGER_TTL_ATTRIBUTE } from '../../lib/aws/dynamo-ledger';
import { JOB_KEY_PREFIX } from '../../lib/aws/s3-job-store';
import { SECRET_PLACEHOLDER } from '../../infra/constructs/storage';
import type { CriminalIpOpenCtiStack } from '../../infra/stack';
import {
  actionsOf,
  asList,
  identityStatements,
  logicalId,
  render,
  resourceOf,
  synthStack,
  type Statement,
} from './support';

let stack: CriminalIpOpenCtiStack;
let template: Template;
let ids: {
  ingest: string;
  enrich: string;
  schedule: string;
  jobs: string;
  dlq: string;
  table: string;
  bucket: string;
  secret: string;
  api: string;
  /** Its Ref is the stage name (v1). */
  stage: string;
};

interface FunctionProps {
  Runtime: string;
  Architectures: string[];
  MemorySize: number;
  Timeout: number;
  ReservedConcurrentExecutions?: number;
  Role: { 'Fn::GetAtt': [string, string] };
  LoggingConfig?: { LogGroup: { Ref: string } };
  Environment: { Variables: Record<string, unknown> };
}

const fnProps = (id: string) => resourceOf<FunctionProps>(template, id);
const roleOf = (fnId: string) => fnProps(fnId).Role['Fn::GetAtt'][0];
const env = (fnId: string) => fnProps(fnId).Environment.Variables;

beforeAll(() => {
  ({ stack, template } = synthStack());
  ids = {
    ingest: logicalId(stack.functions.ingest),
    enrich: logicalId(stack.functions.enrich),
    schedule: logicalId(stack.functions.schedule),
    jobs: logicalId(stack.queues.jobs),
    dlq: logicalId(stack.queues.deadLetters),
    table: logicalId(stack.storage.table),
    bucket: logicalId(stack.storage.payloads),
    secret: logicalId(stack.storage.secret),
    api: logicalId(stack.ingestApi.api),
    stage: logicalId(stack.ingestApi.api.deploymentStage),
  };
});

describe('jobs queue and dead-letter queue', () => {
  it('encrypts both queues with SQS managed keys and refuses non-TLS access', () => {
    for (const id of [ids.jobs, ids.dlq]) {
      expect(resourceOf(template, id)).toMatchObject({ SqsManagedSseEnabled: true });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('keeps a message invisible for at least 6 × the enrich timeout plus the batching window', () => {
    const queue = resourceOf<{ VisibilityTimeout: number }>(template, ids.jobs);
    const mapping = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'))[0]
      ?.Properties as {
      MaximumBatchingWindowInSeconds: number;
    };
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(
      6 * fnProps(ids.enrich).Timeout + mapping.MaximumBatchingWindowInSeconds,
    );
    expect(queue.VisibilityTimeout).toBe(185);
  });

  it('dead-letters a job after maxReceiveCount deliveries and keeps it 14 days', () => {
    expect(resourceOf(template, ids.jobs)).toMatchObject({
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [ids.dlq, 'Arn'] }, maxReceiveCount: 5 },
      MaximumMessageSize: 1048576,
    });
    expect(resourceOf(template, ids.dlq)).toMatchObject({ MessageRetentionPeriod: 14 * 24 * 3600 });
  });
});

describe('enrich event source', () => {
  it('reads batches of 10 within 5 s, reports item failures and caps concurrency', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [ids.jobs, 'Arn'] },
      FunctionName: { Ref: ids.enrich },
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('reserves at least as much concurrency for enrich as the queue may drive', () => {
    const mapping = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'))[0]
      ?.Properties as {
      ScalingConfig: { MaximumConcurrency: number };
    };
    const reserved = fnProps(ids.enrich).ReservedConcurrentExecutions;
    expect(reserved).toBeDefined();
    expect(reserved).toBeGreaterThanOrEqual(mapping.ScalingConfig.MaximumConcurrency);
  });
});

describe('functions', () => {
  it.each([
    ['ingest', 256, 10],
    ['enrich', 512, 30],
    ['schedule', 256, 60],
  ] as const)('%s runs on arm64 nodejs24.x with %i MB and a %i s timeout', (name, memory, timeout) => {
    expect(fnProps(ids[name])).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: memory,
      Timeout: timeout,
    });
  });

  it('gives each function its own log group with a retention period, writable only by its role', () => {
    template.resourceCountIs('AWS::Lambda::Function', 3);
    for (const fn of [ids.ingest, ids.enrich, ids.schedule]) {
      const logGroup = fnProps(fn).LoggingConfig?.LogGroup.Ref;
      expect(logGroup).toBeDefined();
      expect(resourceOf(template, logGroup as string)).toMatchObject({ RetentionInDays: 30 });
      const logStatements = identityStatements(template).filter(
        (s) => s.roles.includes(roleOf(fn)) && asList(s.statement.Action).some((a) => a.startsWith('logs:')),
      );
      expect(logStatements.map((s) => render(s.statement.Resource))).toEqual([`<${logGroup}.Arn>`]);
    }
  });

  it('uses no AWS managed policy for the function roles', () => {
    for (const fn of [ids.ingest, ids.enrich, ids.schedule]) {
      expect(
        resourceOf<{ ManagedPolicyArns?: unknown }>(template, roleOf(fn)).ManagedPolicyArns,
      ).toBeUndefined();
    }
  });

  it('hands the functions the non-secret settings and resource names, never a secret', () => {
    for (const fn of [ids.ingest, ids.enrich, ids.schedule]) {
      const vars = env(fn);
      for (const secret of SECRET_VARIABLES) expect(vars).not.toHaveProperty(secret);
      expect(JSON.stringify(vars)).not.toContain(SECRET_PLACEHOLDER);
      expect(vars).toMatchObject({
        OPENCTI_URL: 'https://opencti.example.com',
        CONNECTOR_ID: '00000000-0000-4000-8000-000000000000',
        CONNECTOR_NAME: 'Criminal IP',
        CONNECTOR_SCOPE: 'IPv4-Addr,IPv6-Addr,Domain-Name,Hostname,Url',
        CONNECTOR_AUTO: 'false',
        CRIMINALIP_MAX_TLP: 'TLP:AMBER',
        QUEUE_MAX_RECEIVE_COUNT: '5',
        POWERTOOLS_SERVICE_NAME: 'criminalip-opencti',
        POWERTOOLS_METRICS_NAMESPACE: 'CriminalIpOpenCti',
        SECRET_ARN: { Ref: ids.secret },
        QUEUE_URL: { Ref: ids.jobs },
        PAYLOAD_BUCKET: { Ref: ids.bucket },
      });
    }
    expect(env(ids.enrich)).toMatchObject({ TABLE_NAME: { Ref: ids.table } });
    expect(env(ids.schedule)).toMatchObject({ TABLE_NAME: { Ref: ids.table } });
    // Ingest reads the platform record (the OpenCTI 7.x JWKS) from the ledger.
    expect(env(ids.ingest)).toMatchObject({ TABLE_NAME: { Ref: ids.table } });
  });

  it('registers the API callback URL, which the ingest function (behind that API) does not need', () => {
    for (const fn of [ids.schedule, ids.enrich]) {
      expect(render(env(fn).CONNECTOR_CALLBACK_URL)).toMatch(
        new RegExp(`^https://<${ids.api}>\\.execute-api\\..+/<${ids.stage}>/opencti/callback$`),
      );
    }
    expect(env(ids.ingest)).not.toHaveProperty('CONNECTOR_CALLBACK_URL');
  });

  it('sets variables that lib/config accepts as they are', () => {
    const plain = Object.fromEntries(
      Object.entries(env(ids.schedule)).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
    const config = loadConfig({
      ...plain,
      CONNECTOR_CALLBACK_URL: 'https://api.example.com/v1/opencti/callback',
      CRIMINALIP_API_KEY: 'from-secrets-manager',
      OPENCTI_TOKEN: 'from-secrets-manager',
    });
    expect(config.queue).toEqual({ maxReceiveCount: 5, visibilityTimeoutSeconds: 185 });
    expect(config.opencti.connectorId).toBe('00000000-0000-4000-8000-000000000000');
  });

  it('does not retry a failed schedule run: the next tick repeats it', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: ids.schedule },
      MaximumRetryAttempts: 0,
    });
  });
});

describe('IAM', () => {
  const base = [
    'logs:CreateLogStream',
    'logs:PutLogEvents',
    'secretsmanager:DescribeSecret',
    'secretsmanager:GetSecretValue',
  ];
  const send = ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'];
  const table = [
    'dynamodb:BatchGetItem',
    'dynamodb:BatchWriteItem',
    'dynamodb:ConditionCheckItem',
    'dynamodb:DeleteItem',
    'dynamodb:DescribeTable',
    'dynamodb:GetItem',
    'dynamodb:GetRecords',
    'dynamodb:GetShardIterator',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:Scan',
    'dynamodb:UpdateItem',
  ];

  it('lets ingest queue jobs, store oversize ones, read the secret and the platform record, nothing more', () => {
    expect(actionsOf(template, roleOf(ids.ingest))).toEqual(
      [...base, 's3:PutObject', 'dynamodb:GetItem', ...send].sort(),
    );
  });

  it('lets enrich consume and re-enqueue jobs, use payloads, the ledger and the secret', () => {
    expect(actionsOf(template, roleOf(ids.enrich))).toEqual(
      [
        ...base,
        ...table,
        ...send,
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
        's3:GetObject',
        's3:PutObject',
      ].sort(),
    );
  });

  it('lets schedule enqueue jobs, use the ledger and read the secret', () => {
    expect(actionsOf(template, roleOf(ids.schedule))).toEqual(
      [...base, ...table, ...send, 's3:PutObject'].sort(),
    );
  });

  it("grants each action on this stack's own resources only", () => {
    const resourcesOf = (action: string) =>
      identityStatements(template)
        .filter((s) => asList(s.statement.Action).includes(action))
        .flatMap((s) => asList(s.statement.Resource).map(render));
    expect(new Set(resourcesOf('sqs:SendMessage'))).toEqual(new Set([`<${ids.jobs}.Arn>`]));
    expect(new Set(resourcesOf('secretsmanager:GetSecretValue'))).toEqual(new Set([`<${ids.secret}>`]));
    expect(new Set(resourcesOf('dynamodb:PutItem'))).toEqual(new Set([`<${ids.table}.Arn>`]));
    expect(new Set(resourcesOf('s3:PutObject'))).toEqual(new Set([`<${ids.bucket}.Arn>/${JOB_KEY_PREFIX}*`]));
    expect(new Set(resourcesOf('lambda:InvokeFunction'))).toEqual(
      new Set([`<${ids.schedule}.Arn>`, `<${ids.schedule}.Arn>:*`]),
    );
  });

  it('has no wildcard action, no Resource "*", and only the two acknowledged ARN wildcards', () => {
    const statements: Statement[] = identityStatements(template).map((s) => s.statement);
    expect(statements.length).toBeGreaterThan(10);
    for (const s of statements) {
      for (const action of asList(s.Action)) expect(action).not.toContain('*');
    }
    const wildcards = new Set(
      statements.flatMap((s) => asList(s.Resource).map(render)).filter((r) => r.includes('*')),
    );
    expect(wildcards).toEqual(new Set([`<${ids.bucket}.Arn>/${JOB_KEY_PREFIX}*`, `<${ids.schedule}.Arn>:*`]));
  });
});

describe('storage', () => {
  it('keeps the ledger on demand with key pk, TTL expiresAt and point-in-time recovery', () => {
    expect(LEDGER_KEY).toBe('pk');
    expect(LEDGER_TTL_ATTRIBUTE).toBe('expiresAt');
    expect(resourceOf(template, ids.table)).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      Replicas: [
        expect.objectContaining({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
      ],
    });
  });

  it('encrypts the payload bucket, blocks public access and refuses non-TLS requests', () => {
    expect(resourceOf(template, ids.bucket)).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: ids.bucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('expires stored jobs, but only after the dead-letter queue has let go of their messages', () => {
    const rules = resourceOf<{ LifecycleConfiguration: { Rules: Array<Record<string, unknown>> } }>(
      template,
      ids.bucket,
    ).LifecycleConfiguration.Rules;
    expect(rules).toEqual([expect.objectContaining({ Prefix: JOB_KEY_PREFIX, Status: 'Enabled' })]);
    const dlqDays =
      resourceOf<{ MessageRetentionPeriod: number }>(template, ids.dlq).MessageRetentionPeriod / 86400;
    expect(rules[0]?.ExpirationInDays).toBeGreaterThan(dlqDays);
    expect(rules[0]?.ExpirationInDays).toBeLessThanOrEqual(dlqDays + 2);
  });

  it('creates the secret with the three keys and placeholders only', () => {
    const secret = resourceOf<{
      GenerateSecretString: { SecretStringTemplate: string; GenerateStringKey: string };
    }>(template, ids.secret);
    expect(JSON.parse(secret.GenerateSecretString.SecretStringTemplate)).toEqual({
      CRIMINALIP_API_KEY: SECRET_PLACEHOLDER,
      OPENCTI_TOKEN: SECRET_PLACEHOLDER,
    });
    expect(secret.GenerateSecretString.GenerateStringKey).toBe('WEBHOOK_TOKEN');
  });
});

describe('API', () => {
  const methods = () =>
    Object.values(template.findResources('AWS::ApiGateway::Method')).map(
      (m) => m.Properties as Record<string, unknown> & { HttpMethod: string; ResourceId: { Ref: string } },
    );
  const pathOf = (resourceId: string): string => {
    const r = resourceOf<{ PathPart: string; ParentId: unknown }>(template, resourceId);
    const parent = r.ParentId as { Ref?: string };
    return `${parent.Ref ? pathOf(parent.Ref) : ''}/${r.PathPart}`;
  };

  it('is a regional REST API', () => {
    expect(resourceOf(template, ids.api)).toMatchObject({ EndpointConfiguration: { Types: ['REGIONAL'] } });
  });

  it('routes POST /opencti/callback, POST /webhook and GET /health to the ingest function', () => {
    const routes = methods().map((m) => `${m.HttpMethod} ${pathOf(m.ResourceId.Ref)}`);
    expect(routes.sort()).toEqual(['GET /health', 'POST /opencti/callback', 'POST /webhook']);
    for (const m of methods()) {
      expect(m).toMatchObject({ AuthorizationType: 'NONE', Integration: { Type: 'AWS_PROXY' } });
      expect(render((m.Integration as { Uri: unknown }).Uri)).toContain(`<${ids.ingest}.Arn>/invocations`);
    }
  });

  it('validates the webhook body as JSON, but lets every callback body reach the function', () => {
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    const byPath = Object.fromEntries(methods().map((m) => [pathOf(m.ResourceId.Ref), m]));
    expect(byPath['/webhook']).toHaveProperty('RequestValidatorId');
    expect(byPath['/webhook']).toHaveProperty('RequestModels.application/json');
    // The OpenCTI worker requeues forever on anything but 2xx: a gateway 400 would loop.
    expect(byPath['/opencti/callback']).not.toHaveProperty('RequestModels');
    expect(byPath['/opencti/callback']).not.toHaveProperty('RequestValidatorId');
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      StatusCode: '400',
    });
  });

  it('throttles the stage and writes JSON access logs without headers or bodies', () => {
    const stage = Object.values(template.findResources('AWS::ApiGateway::Stage'))[0]?.Properties as {
      StageName: string;
      MethodSettings: Array<Record<string, unknown>>;
      AccessLogSetting: { Format: string; DestinationArn: unknown };
    };
    expect(stage.StageName).toBe('v1');
    expect(stage.MethodSettings).toEqual([
      expect.objectContaining({
        ThrottlingRateLimit: 50,
        ThrottlingBurstLimit: 100,
        DataTraceEnabled: false,
        LoggingLevel: 'ERROR',
        MetricsEnabled: true,
      }),
    ]);
    const format = JSON.parse(stage.AccessLogSetting.Format) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    expect(stage.AccessLogSetting.Format).not.toMatch(/header|authorization|body/i);
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
  });
});

describe('schedules', () => {
  const schedules = () =>
    Object.values(template.findResources('AWS::Scheduler::Schedule')).map(
      (s) =>
        s.Properties as {
          ScheduleExpression: string;
          Target: { Arn: unknown; Input: string; RoleArn: unknown; RetryPolicy: Record<string, number> };
        },
    );

  it('pings every 2 minutes and sweeps every 6 hours, both through the schedule function', () => {
    const byTask = Object.fromEntries(
      schedules().map((s) => [(JSON.parse(s.Target.Input) as { task: string }).task, s]),
    );
    expect(Object.keys(byTask).sort()).toEqual(['ping', 'reenrich']);
    expect(byTask.ping?.ScheduleExpression).toBe('rate(2 minutes)');
    expect(byTask.reenrich?.ScheduleExpression).toBe('rate(6 hours)');
    for (const s of schedules()) {
      expect(s.Target.Arn).toEqual({ 'Fn::GetAtt': [ids.schedule, 'Arn'] });
      expect(s.Target.RetryPolicy).toEqual({
        MaximumRetryAttempts: expect.any(Number),
        MaximumEventAgeInSeconds: expect.any(Number),
      });
    }
  });

  it("invokes through a role only this account's Scheduler may assume", () => {
    const roleId = (schedules()[0]?.Target.RoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0] as string;
    const trust = resourceOf<{ AssumeRolePolicyDocument: { Statement: Statement[] } }>(template, roleId)
      .AssumeRolePolicyDocument.Statement;
    expect(trust).toEqual([
      expect.objectContaining({
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      }),
    ]);
    expect(actionsOf(template, roleId)).toEqual(['lambda:InvokeFunction']);
  });
});

describe('alarms', () => {
  const alarms = () =>
    Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties as Record<string, unknown>,
    );
  const alarmOn = (metricName: string, dimension?: unknown) => {
    const found = alarms().filter(
      (a) =>
        a.MetricName === metricName &&
        (dimension === undefined || JSON.stringify(a.Dimensions).includes(JSON.stringify(dimension))),
    );
    expect(found).toHaveLength(1);
    return found[0];
  };

  it('fires as soon as one job is in the dead-letter queue', () => {
    expect(
      alarmOn('ApproximateNumberOfMessagesVisible', { 'Fn::GetAtt': [ids.dlq, 'QueueName'] }),
    ).toMatchObject({
      Namespace: 'AWS/SQS',
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('fires when the oldest job has waited more than 15 minutes for 3 periods', () => {
    expect(alarmOn('ApproximateAgeOfOldestMessage', { 'Fn::GetAtt': [ids.jobs, 'QueueName'] })).toMatchObject(
      {
        Statistic: 'Maximum',
        Threshold: 900,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 3,
      },
    );
  });

  it('fires on any error of each function and any 5XX of the API', () => {
    for (const fn of [ids.ingest, ids.enrich, ids.schedule]) {
      expect(alarmOn('Errors', { Ref: fn })).toMatchObject({
        Namespace: 'AWS/Lambda',
        Statistic: 'Sum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
    expect(alarmOn('5XXError')).toMatchObject({ Namespace: 'AWS/ApiGateway', Threshold: 0 });
  });

  it('fires when the pipeline reports the Criminal IP quota exhausted', () => {
    expect(alarmOn('QuotaExhausted')).toMatchObject({
      Namespace: 'CriminalIpOpenCti',
      Dimensions: [{ Name: 'service', Value: 'criminalip-opencti' }],
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('has no notification target unless alarmEmail is set', () => {
    expect(alarms()).toHaveLength(7);
    for (const a of alarms()) expect(a.AlarmActions).toBeUndefined();
    template.resourceCountIs('AWS::SNS::Topic', 0);
  });

  it('has a dashboard with the queue, the dead letters, jobs by outcome and Criminal IP usage', () => {
    const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]?.Properties as {
      DashboardBody: unknown;
    };
    const body = render(dashboard.DashboardBody);
    for (const title of [
      'Jobs queue',
      'Dead-letter queue',
      'Jobs by outcome',
      'Criminal IP HTTP calls by outcome',
      'Criminal IP calls (credits)',
      'Function errors',
    ]) {
      expect(body).toContain(`"title":"${title}"`);
    }
    expect(body).toContain('MetricName=\\"Jobs\\"');
    expect(body).toContain('MetricName=\\"CriminalIpHttpCalls\\"');
    expect(body).toContain('"CriminalIpOpenCti","CriminalIpCalls","service","criminalip-opencti"');
    // Spend by origin per day, what the budget refused, the month's share, and quota resumptions.
    expect(body).toContain('"title":"Criminal IP budget: calls per day by origin"');
    expect(body).toContain('MetricName=\\"CriminalIpCallsByOrigin\\"');
    expect(body).toContain('MetricName=\\"BudgetRefusals\\"');
    expect(body).toContain('"CriminalIpOpenCti","MonthlyBudgetUsedPercent","service","criminalip-opencti"');
    expect(body).toContain('"CriminalIpOpenCti","QuotaResumed","service","criminalip-opencti"');
  });

  it('has no budget alarm without a monthly budget', () => {
    expect(alarms().some((a) => a.MetricName === 'MonthlyBudgetUsedPercent')).toBe(false);
  });
});

describe('the monthly budget alarm', () => {
  it('fires at CRIMINALIP_BUDGET_ALARM_PERCENT of CRIMINALIP_MONTHLY_CALL_BUDGET', () => {
    const { template: budgeted } = synthStack({
      settings: {
        settings: { CRIMINALIP_MONTHLY_CALL_BUDGET: '3000', CRIMINALIP_BUDGET_ALARM_PERCENT: '75' },
      },
    });
    const [alarm] = Object.values(budgeted.findResources('AWS::CloudWatch::Alarm'))
      .map((r) => r.Properties as Record<string, unknown>)
      .filter((a) => a.MetricName === 'MonthlyBudgetUsedPercent');
    expect(alarm).toMatchObject({
      Namespace: 'CriminalIpOpenCti',
      Dimensions: [{ Name: 'service', Value: 'criminalip-opencti' }],
      Statistic: 'Maximum',
      Threshold: 75,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(String(alarm?.AlarmDescription)).toMatch(
      /75% of the monthly Criminal IP call budget \(3000 calls\)/,
    );
    // The functions get the same budget through their environment.
    const fns = Object.values(budgeted.findResources('AWS::Lambda::Function')).map(
      (r) =>
        (r.Properties as { Environment?: { Variables?: Record<string, unknown> } }).Environment?.Variables,
    );
    expect(fns.filter((v) => v?.CRIMINALIP_MONTHLY_CALL_BUDGET === '3000').length).toBeGreaterThanOrEqual(3);
  });
});

describe('outputs', () => {
  it.each(['CallbackUrl', 'WebhookUrl', 'HealthUrl', 'SecretArn', 'DlqUrl', 'QueueUrl', 'DashboardName'])(
    'exports %s',
    (name) => {
      template.hasOutput(name, {});
    },
  );

  it('points CallbackUrl and WebhookUrl at the stage routes', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const base = `https://<${ids.api}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/<${ids.stage}>`;
    expect(render(outputs.CallbackUrl?.Value)).toBe(`${base}/opencti/callback`);
    expect(render(outputs.WebhookUrl?.Value)).toBe(`${base}/webhook`);
    expect(render(outputs.HealthUrl?.Value)).toBe(`${base}/health`);
    expect(outputs.SecretArn?.Value).toEqual({ Ref: ids.secret });
    expect(outputs.DlqUrl?.Value).toEqual({ Ref: ids.dlq });
    expect(outputs.QueueUrl?.Value).toEqual({ Ref: ids.jobs });
  });
});
