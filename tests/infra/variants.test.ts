/**
 * Settings change the stack: context strings as `cdk -c key=value` passes them, props over
 * context, and the optional parts (alarm e-mail, tracing, no sweep, no reservation).
 */
import { App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { StackConfigError } from '../../infra/settings';
import { CriminalIpOpenCtiStack } from '../../infra/stack';
import {
  asList,
  cdkJsonContext,
  identityStatements,
  logicalId,
  NO_BUNDLING,
  render,
  resourceOf,
  synthStack,
} from './support';

interface FunctionProps {
  ReservedConcurrentExecutions?: number;
  TracingConfig?: { Mode: string };
  Environment: { Variables: Record<string, unknown> };
}

describe('a stack configured from -c strings with every optional part turned on or off', () => {
  let template: Template;
  let stack: CriminalIpOpenCtiStack;

  beforeAll(() => {
    ({ template, stack } = synthStack({
      context: {
        alarmEmail: 'soc@acme.test',
        tracing: 'true',
        metricsNamespace: 'AcmeCti',
        maxReceiveCount: '3',
        maxConcurrency: '10',
        reservedConcurrency: 'none',
        pingRate: 'cron(*/5 * * * ? *)',
        reenrichRate: 'off',
        scope: 'IPv4-Addr,Url',
        settings: '{"CACHE_TTL_HOURS":"12"}',
      },
    }));
  });

  const fn = (id: string) => resourceOf<FunctionProps>(template, id);
  const fnIds = () => stack.functions.all.map(({ fn: f }) => logicalId(f));

  it('sends every alarm to an e-mail topic that refuses non-TLS publishing', () => {
    const topic = logicalId(stack.monitoring.topic!);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'soc@acme.test',
      TopicArn: { Ref: topic },
    });
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(7);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: topic }]);
    }
    const policy = Object.values(template.findResources('AWS::SNS::TopicPolicy'))[0]?.Properties as {
      PolicyDocument: { Statement: Array<Record<string, unknown>> };
    };
    expect(policy.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('traces the API stage and the functions, the only case with a Resource "*" (X-Ray)', () => {
    for (const id of fnIds()) expect(fn(id).TracingConfig).toEqual({ Mode: 'Active' });
    const stage = Object.values(template.findResources('AWS::ApiGateway::Stage'))[0]?.Properties;
    expect(stage?.TracingEnabled).toBe(true);
    const starred = identityStatements(template)
      .map((s) => s.statement)
      .filter((s) => asList(s.Resource).map(render).includes('*'));
    expect(starred.length).toBe(3);
    for (const s of starred) {
      expect(asList(s.Action).every((a) => a.startsWith('xray:'))).toBe(true);
    }
  });

  it('uses the namespace for the functions and the quota alarm', () => {
    for (const id of fnIds()) {
      expect(fn(id).Environment.Variables.POWERTOOLS_METRICS_NAMESPACE).toBe('AcmeCti');
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'QuotaExhausted',
      Namespace: 'AcmeCti',
    });
  });

  it('redrives after 3 deliveries and tells the functions so', () => {
    const queue = resourceOf<{ RedrivePolicy: { maxReceiveCount: number } }>(
      template,
      logicalId(stack.queues.jobs),
    );
    expect(queue.RedrivePolicy.maxReceiveCount).toBe(3);
    for (const id of fnIds()) expect(fn(id).Environment.Variables.QUEUE_MAX_RECEIVE_COUNT).toBe('3');
  });

  it('lets the queue drive 10 invocations with no reservation', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 10 },
    });
    expect(fn(logicalId(stack.functions.enrich)).ReservedConcurrentExecutions).toBeUndefined();
  });

  it('keeps only the ping schedule, on the given cron expression', () => {
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule'));
    expect(schedules).toHaveLength(1);
    expect(schedules[0]?.Properties).toMatchObject({
      ScheduleExpression: 'cron(*/5 * * * ? *)',
      Target: { Input: '{"task":"ping"}' },
    });
  });

  it('passes scope and extra settings to every function', () => {
    for (const id of fnIds()) {
      expect(fn(id).Environment.Variables).toMatchObject({
        CONNECTOR_SCOPE: 'IPv4-Addr,Url',
        CACHE_TTL_HOURS: '12',
      });
    }
  });
});

describe('props and context together', () => {
  it('lets props override the context and keeps a reservation above maxConcurrency', () => {
    const connectorId = '7d4c5a3e-9a51-4a53-8e43-2f5b4b1c0c11';
    const { template, stack } = synthStack({
      context: { maxConcurrency: 4, reservedConcurrency: 6 },
      settings: { connectorId, openctiUrl: 'https://cti.acme.test' },
    });
    const enrich = resourceOf<FunctionProps>(template, logicalId(stack.functions.enrich));
    expect(enrich.ReservedConcurrentExecutions).toBe(6);
    expect(enrich.Environment.Variables).toMatchObject({
      CONNECTOR_ID: connectorId,
      OPENCTI_URL: 'https://cti.acme.test',
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 4 },
    });
  });

  it('stops on an invalid value with the error naming the context key', () => {
    const app = new App({ context: { ...cdkJsonContext(), ...NO_BUNDLING, connectorId: 'connector-1' } });
    expect(() => new CriminalIpOpenCtiStack(app, 'Broken')).toThrow(StackConfigError);
    expect(() => new CriminalIpOpenCtiStack(app, 'Broken2')).toThrow(
      /^Invalid stack configuration: connectorId must be a UUID \(got "connector-1"\)/,
    );
  });

  it('needs openctiUrl and connectorId, which cdk.json provides as examples', () => {
    const app = new App({ context: { ...NO_BUNDLING } });
    expect(() => new CriminalIpOpenCtiStack(app, 'NoContext')).toThrow(/openctiUrl is required/);
    expect(cdkJsonContext()).toMatchObject({
      openctiUrl: 'https://opencti.example.com',
      connectorId: '00000000-0000-4000-8000-000000000000',
    });
  });
});
