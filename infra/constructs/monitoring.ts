/**
 * Alarms on what needs a human (dead letters, a stuck queue, function and API errors, an
 * exhausted Criminal IP quota, a monthly call budget nearly spent), an optional e-mail topic
 * for them, and a dashboard.
 */
import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC } from '../../lib/core/metrics';
import { acknowledge } from '../nag';

/** A job older than this in the queue means the consumer is stuck or far behind. */
export const OLDEST_MESSAGE_ALARM_SECONDS = 15 * 60;

export interface MonitoringProps {
  readonly queue: sqs.IQueue;
  readonly deadLetters: sqs.IQueue;
  readonly functions: ReadonlyArray<{ name: string; fn: lambda.IFunction }>;
  readonly api: apigateway.RestApi;
  readonly metricsNamespace: string;
  readonly serviceName: string;
  readonly alarmEmail: string | undefined;
  /** CRIMINALIP_MONTHLY_CALL_BUDGET (0: no budget, no alarm) and CRIMINALIP_BUDGET_ALARM_PERCENT. */
  readonly budget: { readonly monthly: number; readonly alarmPercent: number };
}

export class Monitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;
  readonly topic: sns.Topic | undefined;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { queue, deadLetters, api, metricsNamespace: namespace } = props;

    const add = (alarmId: string, alarmProps: cloudwatch.AlarmProps) => {
      this.alarms.push(new cloudwatch.Alarm(this, alarmId, alarmProps));
    };

    add('DeadLettersNotEmpty', {
      alarmDescription:
        'Jobs reached the dead-letter queue: inspect them, fix the cause, then redrive (docs/deploy.md, Operations).',
      metric: deadLetters.metricApproximateNumberOfMessagesVisible({
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(1),
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    add('OldestJobAge', {
      alarmDescription:
        'The oldest queued job has waited more than 15 minutes: the enrich function is failing or throttled.',
      metric: queue.metricApproximateAgeOfOldestMessage({
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(5),
      }),
      threshold: OLDEST_MESSAGE_ALARM_SECONDS,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    for (const { name, fn } of props.functions) {
      add(`${name}Errors`, {
        alarmDescription: `The ${name.toLowerCase()} function failed (see its log group).`,
        metric: fn.metricErrors({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    add('Api5xx', {
      alarmDescription: 'The API answered 5XX: callers (the OpenCTI worker, the webhook) will retry.',
      metric: api.metricServerError({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Custom metrics (METRIC) carry the `service` dimension.
    const serviceMetric = (metricName: string, statistic: string, period: Duration, label?: string) =>
      new cloudwatch.Metric({
        namespace,
        metricName,
        dimensionsMap: { service: props.serviceName },
        statistic,
        period,
        ...(label !== undefined ? { label } : {}),
      });
    const quotaExhausted = serviceMetric(METRIC.quotaExhausted, cloudwatch.Stats.SUM, Duration.minutes(5));
    add('QuotaExhausted', {
      alarmDescription:
        'Criminal IP answered that the API quota is spent: enrichment pauses until credits return.',
      metric: quotaExhausted,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Each ping reports the share spent; the alarm fires before the month's calls run out.
    const monthlyUsed = serviceMetric(
      METRIC.monthlyBudgetUsedPercent,
      cloudwatch.Stats.MAXIMUM,
      Duration.minutes(15),
    );
    if (props.budget.monthly > 0) {
      add('MonthlyBudgetNearlySpent', {
        alarmDescription:
          `${props.budget.alarmPercent}% of the monthly Criminal IP call budget (${props.budget.monthly} calls) is spent: ` +
          'automatic enrichment stops at the reserved share. Raise CRIMINALIP_MONTHLY_CALL_BUDGET or narrow the scope.',
        metric: monthlyUsed,
        threshold: props.budget.alarmPercent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    if (props.alarmEmail) {
      this.topic = new sns.Topic(this, 'AlarmTopic', {
        displayName: 'criminalip-opencti alarms',
        enforceSSL: true,
      });
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
      acknowledge(
        this.topic,
        'AwsSolutions-SNS2',
        'The topic carries only alarm notifications (alarm name, state, metric), no connector data. ' +
          'CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key, and a customer ' +
          'managed key would cost more than the notifications are worth protecting.',
      );
      const action = new actions.SnsAction(this.topic);
      for (const alarm of this.alarms) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(6),
    });
    // Custom metrics (lib/aws/observability.ts METRIC) carry the `service` dimension, some also
    // Outcome, Route or Reason: a search finds every dimension value without listing them here.
    const search = (metricName: string, statistic: string, label: string) =>
      new cloudwatch.SearchExpression({
        expression: `SEARCH('Namespace="${namespace}" MetricName="${metricName}"', '${statistic}', 300)`,
        label,
      });
    const custom = (metricName: string, statistic: string, label: string) =>
      serviceMetric(metricName, statistic, Duration.minutes(5), label);
    const perFunction = (pick: (fn: lambda.IFunction) => cloudwatch.Metric) =>
      props.functions.map(({ name, fn }) => pick(fn).with({ label: name }));

    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Jobs queue',
        left: [
          queue.metricApproximateNumberOfMessagesVisible({ label: 'waiting' }),
          queue.metricApproximateNumberOfMessagesNotVisible({ label: 'in flight' }),
        ],
        right: [queue.metricApproximateAgeOfOldestMessage({ label: 'oldest job age (s)' })],
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queue',
        left: [
          deadLetters.metricApproximateNumberOfMessagesVisible({
            label: 'dead letters',
            statistic: cloudwatch.Stats.MAXIMUM,
          }),
        ],
        right: [search(METRIC.malformedMessages, 'Sum', 'malformed messages')],
      }),
      new cloudwatch.GraphWidget({
        title: 'Jobs by outcome',
        left: [search(METRIC.jobs, 'Sum', '')],
        right: [search(METRIC.jobsQueued, 'Sum', 'queued')],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        // Each lookup call costs Criminal IP credits: this is the credit spend.
        title: 'Criminal IP calls (credits)',
        left: [custom(METRIC.criminalIpCalls, cloudwatch.Stats.SUM, 'lookup calls')],
        right: [
          quotaExhausted.with({ label: 'quota exhausted' }),
          custom(METRIC.quotaResumed, cloudwatch.Stats.SUM, 'quota resumed'),
        ],
      }),
      new cloudwatch.GraphWidget({
        // Per day: what each origin spent, what the budget refused, and the month's share spent.
        title: 'Criminal IP budget: calls per day by origin',
        period: Duration.days(1),
        left: [
          new cloudwatch.SearchExpression({
            expression: `SEARCH('Namespace="${namespace}" MetricName="${METRIC.criminalIpCallsByOrigin}"', 'Sum', 86400)`,
            label: '',
          }),
        ],
        right: [
          search(METRIC.budgetRefusals, 'Sum', 'refused'),
          monthlyUsed.with({ label: 'monthly budget spent (%)' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Criminal IP HTTP calls by outcome',
        left: [search(METRIC.criminalIpHttpCalls, 'Sum', '')],
      }),
      new cloudwatch.GraphWidget({
        title: 'API',
        left: [
          api.metricCount({ label: 'requests', statistic: cloudwatch.Stats.SUM }),
          api.metricClientError({ label: '4XX', statistic: cloudwatch.Stats.SUM }),
          api.metricServerError({ label: '5XX', statistic: cloudwatch.Stats.SUM }),
        ],
        right: [
          search(METRIC.authFailures, 'Sum', 'auth failures'),
          search(METRIC.requestsRejected, 'Sum', 'rejected'),
        ],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        left: perFunction((fn) => fn.metricErrors({ statistic: cloudwatch.Stats.SUM })),
      }),
      new cloudwatch.GraphWidget({
        title: 'Duration (p90, ms)',
        left: perFunction((fn) => fn.metricDuration({ statistic: cloudwatch.Stats.p(90) })),
        right: [custom(METRIC.jobLatency, cloudwatch.Stats.p(90), 'per job')],
      }),
      new cloudwatch.GraphWidget({
        title: 'Function throttles',
        left: perFunction((fn) => fn.metricThrottles({ statistic: cloudwatch.Stats.SUM })),
      }),
    );
  }
}
