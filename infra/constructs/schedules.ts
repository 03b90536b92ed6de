/**
 * EventBridge Scheduler: the connector ping (which also registers the connector on its first
 * run) and the re-enrichment sweep, both invoking the schedule function with a task.
 */
import { Aws, Duration, type CfnResource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { acknowledge, arnWildcardFinding } from '../nag';
import type { ScheduleSpec } from '../settings';

export function scheduleExpression(spec: ScheduleSpec): scheduler.ScheduleExpression {
  return spec.kind === 'rate'
    ? scheduler.ScheduleExpression.rate(Duration.minutes(spec.minutes))
    : scheduler.ScheduleExpression.expression(spec.expression);
}

export interface ConnectorSchedulesProps {
  readonly handler: lambda.IFunction;
  readonly pingRate: ScheduleSpec;
  readonly reenrichRate: ScheduleSpec | 'off';
}

export class ConnectorSchedules extends Construct {
  readonly ping: scheduler.Schedule;
  readonly reenrich: scheduler.Schedule | undefined;

  constructor(scope: Construct, id: string, props: ConnectorSchedulesProps) {
    super(scope, id);

    // One role for both schedules; only this account's Scheduler may assume it.
    const role = new iam.Role(this, 'InvokeRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'criminalip-opencti: lets EventBridge Scheduler invoke the schedule function',
    });

    this.ping = new scheduler.Schedule(this, 'Ping', {
      description:
        'criminalip-opencti: register (first run) and ping the connector so OpenCTI shows it active',
      schedule: scheduleExpression(props.pingRate),
      target: new targets.LambdaInvoke(props.handler, {
        role,
        input: scheduler.ScheduleTargetInput.fromObject({ task: 'ping' }),
        // A ping is worth nothing once the next one is due.
        retryAttempts: 2,
        maxEventAge: Duration.minutes(1),
      }),
    });

    if (props.reenrichRate !== 'off') {
      this.reenrich = new scheduler.Schedule(this, 'Reenrich', {
        description: 'criminalip-opencti: enqueue observables whose enrichment is stale',
        schedule: scheduleExpression(props.reenrichRate),
        target: new targets.LambdaInvoke(props.handler, {
          role,
          input: scheduler.ScheduleTargetInput.fromObject({ task: 'reenrich' }),
          retryAttempts: 5,
          maxEventAge: Duration.hours(1),
        }),
      });
    }

    acknowledge(
      role,
      arnWildcardFinding(props.handler.node.defaultChild as CfnResource, ':*'),
      "lambda:InvokeFunction on the schedule function's versions and aliases (<arn>:*), as granted by " +
        'grantInvoke; the role can invoke no other function.',
    );
  }
}
