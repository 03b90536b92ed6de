/**
 * The stack's configuration: CDK context (cdk.json defaults, `-c key=value`) or stack props,
 * validated before any construct is built. An invalid value stops synth with StackConfigError,
 * one line naming the context key and what it must be.
 *
 * Settings the Lambda functions also read (OpenCTI URL, scope, thresholds, ...) are validated by
 * lib/config itself, so a value synth accepts is a value the functions accept at start.
 */
import { DEFAULT_METRICS_NAMESPACE } from '../lib/aws/observability';
import { ConfigError, loadConfig, SECRET_VARIABLES } from '../lib/config';
import type { ObservableEntityType, ScoreWord, TlpLevel } from '../lib/config';

export class StackConfigError extends Error {
  constructor(
    readonly key: string,
    readonly expected: string,
  ) {
    super(`Invalid stack configuration: ${key} ${expected} (${StackConfigError.where(key)})`);
    this.name = 'StackConfigError';
  }

  private static where(key: string): string {
    const [top, variable] = key.split('.');
    return variable
      ? `set ${variable} in the "${top}" object of the cdk.json context`
      : `set it in the cdk.json context or with -c ${key}=...`;
  }
}

/** How often a schedule fires: a rate in minutes, or a raw Scheduler expression (cron/rate/at). */
export type ScheduleSpec = { kind: 'rate'; minutes: number } | { kind: 'expression'; expression: string };

export interface StackSettings {
  openctiUrl: string;
  connectorId: string;
  connectorName: string;
  scope: readonly ObservableEntityType[];
  maxTlp: TlpLevel;
  /** OpenCTI auto enrichment (enrich on creation). */
  auto: boolean;
  pingRate: ScheduleSpec;
  /** `off`: no re-enrichment schedule at all. */
  reenrichRate: ScheduleSpec | 'off';
  reenrichBudget: number;
  staleDays: number;
  indicatorThreshold: ScoreWord;
  phishingThreshold: number;
  maxReceiveCount: number;
  /** Concurrent enrich invocations the queue may drive (event source mapping MaximumConcurrency). */
  maxConcurrency: number;
  /** Reserved concurrency of the enrich function; `none` leaves it unreserved. */
  reservedConcurrency: number | 'none';
  alarmEmail: string | undefined;
  metricsNamespace: string;
  logRetentionDays: number;
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  apiRateLimit: number;
  apiBurstLimit: number;
  /** X-Ray tracing on the API stage and the functions. */
  tracing: boolean;
  /** Further lib/config variables handed to the functions as they are (non-secret only). */
  settings: Readonly<Record<string, string>>;
}

export type SettingKey = keyof StackSettings;

/** What a caller may pass: context values arrive as strings from the CLI, as JSON from cdk.json. */
export type StackSettingsInput = Partial<Record<SettingKey, unknown>>;

export const SETTING_KEYS: readonly SettingKey[] = [
  'openctiUrl',
  'connectorId',
  'connectorName',
  'scope',
  'maxTlp',
  'auto',
  'pingRate',
  'reenrichRate',
  'reenrichBudget',
  'staleDays',
  'indicatorThreshold',
  'phishingThreshold',
  'maxReceiveCount',
  'maxConcurrency',
  'reservedConcurrency',
  'alarmEmail',
  'metricsNamespace',
  'logRetentionDays',
  'logLevel',
  'apiRateLimit',
  'apiBurstLimit',
  'tracing',
  'settings',
];

/** The example values cdk.json ships with: synth works with them, a deployment must not. */
export const PLACEHOLDER_OPENCTI_URL = 'https://opencti.example.com';
export const PLACEHOLDER_CONNECTOR_ID = '00000000-0000-4000-8000-000000000000';

/**
 * Context keys that are lib/config variables, next to their variable. lib/config validates
 * them; its errors are reported under the context key the user actually set.
 */
const CONFIG_VARIABLE_OF = {
  openctiUrl: 'OPENCTI_URL',
  connectorId: 'CONNECTOR_ID',
  connectorName: 'CONNECTOR_NAME',
  scope: 'CONNECTOR_SCOPE',
  maxTlp: 'CRIMINALIP_MAX_TLP',
  auto: 'CONNECTOR_AUTO',
  reenrichBudget: 'REENRICH_BUDGET',
  staleDays: 'REENRICH_STALE_DAYS',
  indicatorThreshold: 'INDICATOR_THRESHOLD',
  phishingThreshold: 'PHISHING_THRESHOLD',
  maxReceiveCount: 'QUEUE_MAX_RECEIVE_COUNT',
  logLevel: 'LOG_LEVEL',
} as const satisfies Partial<Record<SettingKey, string>>;

/**
 * Variables the stack sets itself (from the keys above or from its resources): `settings` may
 * not override them, so that each value has exactly one place to be set.
 */
export const STACK_MANAGED_VARIABLES: readonly string[] = [
  ...Object.values(CONFIG_VARIABLE_OF),
  'CONNECTOR_CALLBACK_URL',
  'QUEUE_URL',
  'QUEUE_VISIBILITY_SECONDS',
  'TABLE_NAME',
  'PAYLOAD_BUCKET',
  'SECRET_ARN',
  'SECRET_NAME',
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_METRICS_NAMESPACE',
  'POWERTOOLS_LOG_LEVEL',
  'NODE_OPTIONS',
];

/** Defaults of the stack's own keys; those of lib/config variables are lib/config's. */
const DEFAULTS = {
  pingRate: '2 minutes',
  reenrichRate: '6 hours',
  maxConcurrency: 2,
  metricsNamespace: DEFAULT_METRICS_NAMESPACE,
  logRetentionDays: 30,
  apiRateLimit: 50,
  apiBurstLimit: 100,
  tracing: false,
} as const;

/** CloudWatch Logs accepts only these retention periods (days). */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

type Lookup = (key: SettingKey) => unknown;

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '');
}

/** A context value as the string a Lambda environment variable would carry. */
function asText(key: SettingKey, value: unknown): string {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(',');
  throw new StackConfigError(key, `must be a string, number or boolean (got ${JSON.stringify(value)})`);
}

function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `"${String(text).slice(0, 80)}"`;
}

function integer(key: SettingKey, value: unknown, min: number, max: number): number {
  const n = typeof value === 'number' ? value : Number(asText(key, value));
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new StackConfigError(key, `must be an integer from ${min} to ${max} (got ${shown(value)})`);
  }
  return n;
}

function boolean(key: SettingKey, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  const text = asText(key, value).toLowerCase();
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new StackConfigError(key, `must be true or false (got ${shown(value)})`);
}

const RATE = /^(?:rate\(\s*)?(\d+)\s+(minutes?|hours?|days?)\s*\)?$/i;
const EXPRESSION = /^(cron|rate|at)\(.+\)$/i;

/**
 * "2 minutes", "6 hours", "1 day" or "rate(6 hours)" become a rate; "cron(...)" and "at(...)"
 * pass through as Scheduler expressions (EventBridge Scheduler validates their fields on deploy).
 */
export function parseSchedule(key: SettingKey, value: unknown): ScheduleSpec {
  const text = asText(key, value);
  const rate = RATE.exec(text);
  if (rate) {
    const amount = Number(rate[1]);
    const unit = (rate[2] ?? '').toLowerCase();
    const minutes = amount * (unit.startsWith('day') ? 1440 : unit.startsWith('hour') ? 60 : 1);
    if (amount < 1 || minutes > 366 * 1440) {
      throw new StackConfigError(key, `must be a rate from 1 minute to 366 days (got ${shown(value)})`);
    }
    return { kind: 'rate', minutes };
  }
  if (EXPRESSION.test(text)) return { kind: 'expression', expression: text };
  throw new StackConfigError(
    key,
    `must be a rate such as "2 minutes", "6 hours" or "1 day", or a cron(...) expression (got ${shown(value)})`,
  );
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const NAMESPACE = /^[A-Za-z0-9._/#:-]{1,255}$/;
const VARIABLE = /^[A-Z][A-Z0-9_]*$/;

function extraSettings(value: unknown): Record<string, string> {
  const key = 'settings';
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new StackConfigError(key, 'must be a JSON object of variable names to values');
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new StackConfigError(key, 'must be an object of variable names to values');
  }
  const result: Record<string, string> = {};
  for (const [name, raw] of Object.entries(parsed)) {
    if (!VARIABLE.test(name) || name.startsWith('AWS_') || name.startsWith('LAMBDA_')) {
      throw new StackConfigError(
        key,
        `names environment variables in UPPER_SNAKE_CASE, not AWS_/LAMBDA_ ones (got "${name}")`,
      );
    }
    if ((SECRET_VARIABLES as readonly string[]).includes(name)) {
      throw new StackConfigError(
        key,
        `must not hold ${name}: secrets go in the Secrets Manager secret (docs/deploy.md)`,
      );
    }
    if (STACK_MANAGED_VARIABLES.includes(name)) {
      throw new StackConfigError(
        key,
        `must not set ${name}: the stack sets it (use its own context key instead)`,
      );
    }
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      throw new StackConfigError(key, `value of ${name} must be a string, number or boolean`);
    }
    result[name] = String(raw);
  }
  return result;
}

/**
 * Runs lib/config over the values the functions will receive, so the same rules decide; its
 * error names an environment variable, reported here under the matching context key.
 */
function validateWithLibConfig(env: Record<string, string>) {
  try {
    return loadConfig(env, { criminalIp: false, opencti: false });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const key = (Object.keys(CONFIG_VARIABLE_OF) as Array<keyof typeof CONFIG_VARIABLE_OF>).find(
      (k) => CONFIG_VARIABLE_OF[k] === error.variable,
    );
    throw new StackConfigError(key ?? `settings.${error.variable}`, error.expected);
  }
}

/**
 * Reads and validates every setting. `lookup` gives the raw value of a key (props first, then
 * context); absent keys take the defaults above.
 */
export function resolveStackSettings(lookup: Lookup): StackSettings {
  const raw = (key: SettingKey): unknown => {
    const value = lookup(key);
    return isSet(value) ? value : undefined;
  };

  for (const key of ['openctiUrl', 'connectorId'] as const) {
    if (raw(key) === undefined) {
      throw new StackConfigError(
        key,
        key === 'openctiUrl'
          ? 'is required: the OpenCTI base URL, e.g. https://opencti.example.com'
          : 'is required: a UUID identifying this connector in OpenCTI',
      );
    }
  }

  const settings = raw('settings') === undefined ? {} : extraSettings(raw('settings'));
  const env: Record<string, string> = { ...settings };
  for (const [key, variable] of Object.entries(CONFIG_VARIABLE_OF) as Array<[SettingKey, string]>) {
    const value = raw(key);
    if (value !== undefined) env[variable] = asText(key, value);
  }
  // lib/config knows only true/false/1/0/yes/no; the stack documents true/false.
  if (raw('auto') !== undefined) env.CONNECTOR_AUTO = String(boolean('auto', raw('auto')));
  const config = validateWithLibConfig(env);

  const maxConcurrency = integer('maxConcurrency', raw('maxConcurrency') ?? DEFAULTS.maxConcurrency, 2, 1000);
  const reservedRaw = raw('reservedConcurrency');
  let reservedConcurrency: number | 'none' = maxConcurrency;
  if (reservedRaw !== undefined && asText('reservedConcurrency', reservedRaw).toLowerCase() === 'none') {
    reservedConcurrency = 'none';
  } else if (reservedRaw !== undefined) {
    reservedConcurrency = integer('reservedConcurrency', reservedRaw, 1, 10000);
    if (reservedConcurrency < maxConcurrency) {
      throw new StackConfigError(
        'reservedConcurrency',
        `must be at least maxConcurrency (${maxConcurrency}) or "none" (got ${reservedConcurrency})`,
      );
    }
  }

  const alarmEmail = raw('alarmEmail') === undefined ? undefined : asText('alarmEmail', raw('alarmEmail'));
  if (alarmEmail !== undefined && !EMAIL.test(alarmEmail)) {
    throw new StackConfigError('alarmEmail', `must be an e-mail address (got ${shown(alarmEmail)})`);
  }

  const metricsNamespace = asText('metricsNamespace', raw('metricsNamespace') ?? DEFAULTS.metricsNamespace);
  if (!NAMESPACE.test(metricsNamespace) || metricsNamespace.startsWith('AWS/')) {
    throw new StackConfigError(
      'metricsNamespace',
      `must be a CloudWatch namespace of letters, digits and . _ / # : - not starting with AWS/ (got ${shown(metricsNamespace)})`,
    );
  }

  const logRetentionDays = integer(
    'logRetentionDays',
    raw('logRetentionDays') ?? DEFAULTS.logRetentionDays,
    1,
    3653,
  );
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) {
    throw new StackConfigError(
      'logRetentionDays',
      `must be one of ${LOG_RETENTION_DAYS.join(', ')} (got ${logRetentionDays})`,
    );
  }

  const apiRateLimit = integer('apiRateLimit', raw('apiRateLimit') ?? DEFAULTS.apiRateLimit, 1, 10000);
  const apiBurstLimit = integer('apiBurstLimit', raw('apiBurstLimit') ?? DEFAULTS.apiBurstLimit, 1, 5000);

  const reenrichRaw = raw('reenrichRate') ?? DEFAULTS.reenrichRate;
  const reenrichRate =
    asText('reenrichRate', reenrichRaw).toLowerCase() === 'off'
      ? 'off'
      : parseSchedule('reenrichRate', reenrichRaw);

  return {
    openctiUrl: config.opencti.url,
    connectorId: config.opencti.connectorId.toLowerCase(),
    connectorName: config.opencti.connectorName,
    scope: config.opencti.scope,
    maxTlp: config.opencti.maxTlp,
    auto: config.opencti.auto,
    pingRate: parseSchedule('pingRate', raw('pingRate') ?? DEFAULTS.pingRate),
    reenrichRate,
    reenrichBudget: config.reenrich.budget,
    staleDays: config.reenrich.staleAfterDays,
    indicatorThreshold: config.mapping.indicatorThreshold,
    phishingThreshold: config.mapping.phishingThreshold,
    maxReceiveCount: config.queue.maxReceiveCount,
    maxConcurrency,
    reservedConcurrency,
    alarmEmail,
    metricsNamespace,
    logRetentionDays,
    logLevel: config.logLevel,
    apiRateLimit,
    apiBurstLimit,
    tracing: boolean('tracing', raw('tracing') ?? DEFAULTS.tracing),
    settings,
  };
}

/** True when the stack still points at cdk.json's example OpenCTI instance or connector id. */
export function usesPlaceholders(settings: StackSettings): boolean {
  return settings.openctiUrl === PLACEHOLDER_OPENCTI_URL || settings.connectorId === PLACEHOLDER_CONNECTOR_ID;
}
