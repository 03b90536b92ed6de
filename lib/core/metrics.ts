/** Where counts go: CloudWatch (EMF) in Lambda, nowhere locally; every name is in METRIC below. */
export interface MetricsSink {
  count(name: string, value?: number, dimensions?: Record<string, string>): void;
}

export const noMetrics: MetricsSink = { count() {} };

/**
 * Every metric the product emits, the one list the emitters, the dashboard and the alarms
 * (infra/constructs/monitoring.ts) read. All carry the `service` dimension in Lambda.
 */
export const METRIC = {
  /** One per finished job, dimension Outcome (written, skipped, retry-later, failed, error). */
  jobs: 'Jobs',
  /** Criminal IP lookups' calls, counted by the pipeline (sum of the jobs' calls). */
  criminalIpCalls: 'CriminalIpCalls',
  /** Every HTTP call to Criminal IP (retries included), dimension Outcome (ok or the error kind). */
  criminalIpHttpCalls: 'CriminalIpHttpCalls',
  /** The Criminal IP credits ran out: calls are paused (counted by the pipeline). */
  quotaExhausted: 'QuotaExhausted',
  /** Milliseconds spent on one job. */
  jobLatency: 'JobLatency',
  /** Jobs put on the queue, dimension Source (route, or reenrich). */
  jobsQueued: 'JobsQueued',
  /** Requests that could never become jobs, dimension Route and Reason. */
  requestsRejected: 'RequestsRejected',
  /** Requests refused for bad or missing credentials, dimension Route. */
  authFailures: 'AuthFailures',
  /** Deliveries of a job already finished (a duplicate, a redelivery, a redrive): acknowledged. */
  duplicateDeliveries: 'DuplicateDeliveries',
  /** Queue messages that are not envelopes (they go to the dead-letter queue). */
  malformedMessages: 'MalformedMessages',
  /** Credits came back while calls were paused: the pause was lifted early (quota.ts). */
  quotaResumed: 'QuotaResumed',
  /** Criminal IP calls counted against the budget, dimension Origin (manual, auto, playbook, webhook, sweep, cli). */
  criminalIpCallsByOrigin: 'CriminalIpCallsByOrigin',
  /** Calls the budget refused, dimension Origin: automatic work waits, analysts are answered. */
  budgetRefusals: 'BudgetRefusals',
  /** Share of the monthly budget spent (0-100), reported by each ping when a monthly budget is set. */
  monthlyBudgetUsedPercent: 'MonthlyBudgetUsedPercent',
  /** In-place retries of a playbook answer (write-back.ts). */
  playbookAnswerRetries: 'PlaybookAnswerRetries',
} as const;
