/**
 * Typed configuration, read from the environment and validated once at start.
 *
 * A missing or invalid value raises ConfigError with one line naming the variable and what is
 * expected. Secret values are never echoed, not even in that error.
 */
// A namespace import lets esbuild keep only the parts of zod we use (about 90 KB instead of 450 KB).
import * as z from 'zod';
import { MAX_QUEUE_DELAY_SECONDS } from '../jobs/limits';

export const OBSERVABLE_ENTITY_TYPES = ['IPv4-Addr', 'IPv6-Addr', 'Domain-Name', 'Hostname', 'Url'] as const;
export type ObservableEntityType = (typeof OBSERVABLE_ENTITY_TYPES)[number];

export const TLP_LEVELS = [
  'TLP:CLEAR',
  'TLP:WHITE',
  'TLP:GREEN',
  'TLP:AMBER',
  'TLP:AMBER+STRICT',
  'TLP:RED',
] as const;
export type TlpLevel = (typeof TLP_LEVELS)[number];

export const SCORE_WORDS = ['safe', 'low', 'moderate', 'dangerous', 'critical'] as const;
export type ScoreWord = (typeof SCORE_WORDS)[number];

/**
 * How a domain or URL is looked up (scan.ts): `auto` takes the cheapest path to a verdict (quick
 * verdict, recent report, lite scan, full scan only when still undetermined or asked for), `full`
 * and `lite` always scan that way after a recent report, `reuse-only` never scans.
 */
export type ScanMode = 'auto' | 'full' | 'lite' | 'reuse-only';
export type ScorePolicy = 'max' | 'inbound' | 'outbound';
/** Who may change an existing score (docs/mapping.md, Score): see lib/pipeline/score-policy.ts. */
export const SCORE_UPDATES = ['own', 'replace', 'raise', 'keep'] as const;
export type ScoreUpdate = (typeof SCORE_UPDATES)[number];
/** An Indicator's STIX confidence: from the evidence, or one fixed value 0-100. */
export type IndicatorConfidence = 'evidence' | number;

/** Names of the variables holding secrets: their values never appear in any message. */
export const SECRET_VARIABLES = ['CRIMINALIP_API_KEY', 'OPENCTI_TOKEN', 'WEBHOOK_TOKEN'] as const;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly expected: string,
  ) {
    super(`Invalid configuration: ${variable} ${expected}`);
    this.name = 'ConfigError';
  }
}

export interface CriminalIpSettings {
  apiKey: string;
  apiUrl: string;
  /** Calls in flight at once, per process (non-Enterprise keys allow one). */
  concurrency: number;
  /** Per-request timeout in milliseconds (connect, headers and body each). */
  timeoutMs: number;
  maxRetries: number;
  /** Also call malicious-info / suspicious-info for IPs (each costs credits). */
  extraIpEndpoints: ReadonlyArray<'malicious-info' | 'suspicious-info'>;
  scanMode: ScanMode;
  /** Reuse a full domain scan at most this old. */
  scanMaxAgeDays: number;
  /** Delay between two scan status polls. */
  scanPollSeconds: number;
  /** Give up on a scan after this many polls. */
  scanMaxPolls: number;
  /** How long a "limit exceeded" answer stops all calls before the account is checked again. */
  quotaPauseSeconds: number;
}

/**
 * Criminal IP calls the connector may spend (lib/pipeline/budget.ts). Windows are UTC calendar
 * days and months; a budget of 0 sets no cap.
 */
export interface BudgetSettings {
  /** CRIMINALIP_DAILY_CALL_BUDGET: calls per UTC day, at most. */
  daily: number;
  /** CRIMINALIP_MONTHLY_CALL_BUDGET: calls per UTC month, at most. */
  monthly: number;
  /** CRIMINALIP_RESERVED_PERCENT: share of each budget only manual and playbook requests may spend. */
  reservedPercent: number;
  /** CRIMINALIP_BUDGET_ALARM_PERCENT: share of the monthly budget spent that raises the alarm. */
  alarmPercent: number;
}

/** REENRICH_SCOPE: `own` sweeps only observables this connector enriched before; `all` every one. */
export type ReenrichScope = 'own' | 'all';

export interface OpenCtiSettings {
  url: string;
  token: string;
  connectorId: string;
  connectorName: string;
  scope: ReadonlyArray<ObservableEntityType>;
  /** Enrich on creation (OpenCTI `auto`). */
  auto: boolean;
  maxTlp: TlpLevel;
  /** Public URL of POST /opencti/callback, registered as listen_callback_uri. */
  callbackUrl: string | undefined;
  timeoutMs: number;
}

export interface MappingSettings {
  scoreWords: Readonly<Record<ScoreWord, number>>;
  scorePolicy: ScorePolicy;
  /** Score word from which an Indicator is created. */
  indicatorThreshold: ScoreWord;
  /** Phishing probability (0-100) from which a domain/URL Indicator is created. */
  phishingThreshold: number;
  indicatorValidityDays: number;
  /** At most this many related domains/hostnames per IP. */
  maxRelatedDomains: number;
  /** At most this many vulnerabilities per IP, highest CVSS first. */
  maxVulnerabilities: number;
  /** Who may change an existing score: own (default), replace, raise, keep. */
  scoreUpdate: ScoreUpdate;
  /** STIX confidence of Indicators: `evidence` (phishing probability, Criminal IP score) or fixed. */
  indicatorConfidence: IndicatorConfidence;
}

export interface Config {
  criminalIp: CriminalIpSettings;
  budget: BudgetSettings;
  opencti: OpenCtiSettings;
  mapping: MappingSettings;
  webhookToken: string | undefined;
  /** Reuse Criminal IP answers for this long: the freshness window. */
  cacheTtlHours: number;
  reenrich: {
    /** Observables not enriched for this long are stale. */
    staleAfterDays: number;
    /** Jobs enqueued at most per sweep. */
    budget: number;
    /** OpenCTI FilterGroup JSON that narrows the sweep (optional). */
    filter: string | undefined;
    scope: ReenrichScope;
  };
  queue: { maxReceiveCount: number; visibilityTimeoutSeconds: number };
  port: number;
  dataDir: string;
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

type Env = Record<string, string | undefined>;

/** Which settings must be present: dry runs and the demo need no OpenCTI, the demo no key. */
export interface ConfigRequirements {
  criminalIp?: boolean;
  opencti?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function read(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function required(env: Env, name: string, expected: string, needed: boolean): string {
  const v = read(env, name);
  if (v === undefined && needed) throw new ConfigError(name, `is required: ${expected}`);
  return v ?? '';
}

function parse<T>(env: Env, name: string, schema: z.ZodType<T>, fallback: string, expected: string): T {
  const raw = read(env, name) ?? fallback;
  const result = schema.safeParse(raw);
  if (!result.success) {
    const shown = (SECRET_VARIABLES as readonly string[]).includes(name)
      ? ''
      : ` (got "${raw.slice(0, 80)}")`;
    throw new ConfigError(name, `must be ${expected}${shown}`);
  }
  return result.data;
}

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//i.test(u))
  .transform((u) => u.replace(/\/+$/, ''));
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => ['true', '1', 'yes'].includes(v));

function list<T extends string>(allowed: readonly T[], caseInsensitive = true) {
  return z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z.string().transform((x, ctx) => {
          const hit = allowed.find((a) => (caseInsensitive ? a.toLowerCase() === x.toLowerCase() : a === x));
          if (!hit) {
            ctx.addIssue({ code: 'custom', message: x });
            return z.NEVER;
          }
          return hit;
        }),
      ),
    );
}

function scoreTable(env: Env): Record<ScoreWord, number> {
  // SCORE_MAP=safe:10,low:30,moderate:50,dangerous:75,critical:95
  const raw = read(env, 'SCORE_MAP') ?? 'safe:10,low:30,moderate:50,dangerous:75,critical:95';
  const table: Partial<Record<ScoreWord, number>> = {};
  for (const part of raw.split(',')) {
    const [word, value] = part.split(':').map((s) => s?.trim().toLowerCase());
    const n = Number(value);
    if (
      !word ||
      !(SCORE_WORDS as readonly string[]).includes(word) ||
      !Number.isInteger(n) ||
      n < 0 ||
      n > 100
    ) {
      throw new ConfigError(
        'SCORE_MAP',
        `must list word:score pairs for ${SCORE_WORDS.join(', ')} with scores 0-100`,
      );
    }
    table[word as ScoreWord] = n;
  }
  for (const w of SCORE_WORDS) {
    if (table[w] === undefined) throw new ConfigError('SCORE_MAP', `is missing a score for "${w}"`);
  }
  return table as Record<ScoreWord, number>;
}

/**
 * Reads and validates the whole configuration. `requirements` says which services must be
 * configured for the command at hand; everything else falls back to its documented default.
 */
export function loadConfig(env: Env = process.env, requirements: ConfigRequirements = {}): Config {
  const needCip = requirements.criminalIp ?? true;
  const needOcti = requirements.opencti ?? true;

  const connectorId = required(env, 'CONNECTOR_ID', 'a UUID identifying this connector in OpenCTI', needOcti);
  if (connectorId && !UUID.test(connectorId)) {
    throw new ConfigError('CONNECTOR_ID', `must be a UUID (got "${connectorId.slice(0, 80)}")`);
  }
  const openctiUrl = required(
    env,
    'OPENCTI_URL',
    'the OpenCTI base URL, e.g. https://opencti.example.com',
    needOcti,
  );
  const callbackUrl = read(env, 'CONNECTOR_CALLBACK_URL');

  return {
    criminalIp: {
      apiKey: required(env, 'CRIMINALIP_API_KEY', 'the Criminal IP API key (x-api-key)', needCip),
      apiUrl: parse(env, 'CRIMINALIP_API_URL', httpUrl, 'https://api.criminalip.io', 'an http(s) URL'),
      concurrency: parse(env, 'CRIMINALIP_CONCURRENCY', int(1, 50), '1', 'an integer from 1 to 50'),
      timeoutMs: parse(
        env,
        'CRIMINALIP_TIMEOUT_MS',
        int(1000, 60000),
        '10000',
        'milliseconds from 1000 to 60000',
      ),
      maxRetries: parse(env, 'CRIMINALIP_MAX_RETRIES', int(0, 10), '3', 'an integer from 0 to 10'),
      extraIpEndpoints: parse(
        env,
        'CRIMINALIP_IP_EXTRAS',
        list(['malicious-info', 'suspicious-info'] as const),
        '',
        'a comma-separated list of malicious-info, suspicious-info (or empty)',
      ),
      scanMode: parse(
        env,
        'CRIMINALIP_SCAN_MODE',
        z.enum(['auto', 'full', 'lite', 'reuse-only']),
        'auto',
        'auto, full, lite or reuse-only',
      ),
      scanMaxAgeDays: parse(env, 'CRIMINALIP_SCAN_MAX_AGE_DAYS', int(0, 365), '7', 'days from 0 to 365'),
      // A poll waits in the queue: at most the queue's longest delay.
      scanPollSeconds: parse(
        env,
        'CRIMINALIP_SCAN_POLL_SECONDS',
        int(1, MAX_QUEUE_DELAY_SECONDS),
        '15',
        `seconds from 1 to ${MAX_QUEUE_DELAY_SECONDS}`,
      ),
      scanMaxPolls: parse(env, 'CRIMINALIP_SCAN_MAX_POLLS', int(1, 200), '40', 'an integer from 1 to 200'),
      quotaPauseSeconds: parse(
        env,
        'CRIMINALIP_QUOTA_PAUSE_SECONDS',
        int(60, 86400 * 31),
        '3600',
        'seconds from 60',
      ),
    },
    budget: {
      daily: parse(env, 'CRIMINALIP_DAILY_CALL_BUDGET', int(0, 10_000_000), '0', 'calls from 0 (no cap)'),
      monthly: parse(
        env,
        'CRIMINALIP_MONTHLY_CALL_BUDGET',
        int(0, 100_000_000),
        '0',
        'calls from 0 (no cap)',
      ),
      reservedPercent: parse(
        env,
        'CRIMINALIP_RESERVED_PERCENT',
        int(0, 100),
        '20',
        'a percentage from 0 to 100',
      ),
      alarmPercent: parse(
        env,
        'CRIMINALIP_BUDGET_ALARM_PERCENT',
        int(1, 100),
        '80',
        'a percentage from 1 to 100',
      ),
    },
    opencti: {
      url: openctiUrl ? parse(env, 'OPENCTI_URL', httpUrl, '', 'an http(s) URL') : '',
      token: required(env, 'OPENCTI_TOKEN', 'the API token of the connector user in OpenCTI', needOcti),
      connectorId,
      connectorName: read(env, 'CONNECTOR_NAME') ?? 'Criminal IP',
      scope: parse(
        env,
        'CONNECTOR_SCOPE',
        list(OBSERVABLE_ENTITY_TYPES).refine((a) => a.length > 0),
        OBSERVABLE_ENTITY_TYPES.join(','),
        `a comma-separated list of ${OBSERVABLE_ENTITY_TYPES.join(', ')}`,
      ),
      auto: parse(env, 'CONNECTOR_AUTO', bool, 'false', 'true or false'),
      maxTlp: parse(
        env,
        'CRIMINALIP_MAX_TLP',
        z.string().toUpperCase().pipe(z.enum(TLP_LEVELS)),
        'TLP:AMBER',
        TLP_LEVELS.join(', '),
      ),
      callbackUrl: callbackUrl
        ? parse(env, 'CONNECTOR_CALLBACK_URL', httpUrl, '', 'an http(s) URL')
        : undefined,
      timeoutMs: parse(
        env,
        'OPENCTI_TIMEOUT_MS',
        int(1000, 120000),
        '20000',
        'milliseconds from 1000 to 120000',
      ),
    },
    mapping: {
      scoreWords: scoreTable(env),
      scorePolicy: parse(
        env,
        'SCORE_POLICY',
        z.enum(['max', 'inbound', 'outbound']),
        'max',
        'max, inbound or outbound',
      ),
      indicatorThreshold: parse(
        env,
        'INDICATOR_THRESHOLD',
        z.string().toLowerCase().pipe(z.enum(SCORE_WORDS)),
        'dangerous',
        SCORE_WORDS.join(', '),
      ),
      phishingThreshold: parse(env, 'PHISHING_THRESHOLD', int(0, 100), '70', 'a percentage from 0 to 100'),
      indicatorValidityDays: parse(env, 'INDICATOR_VALIDITY_DAYS', int(1, 3650), '30', 'days from 1 to 3650'),
      maxRelatedDomains: parse(env, 'MAX_RELATED_DOMAINS', int(0, 1000), '50', 'an integer from 0 to 1000'),
      maxVulnerabilities: parse(env, 'MAX_VULNERABILITIES', int(0, 1000), '100', 'an integer from 0 to 1000'),
      scoreUpdate: parse(
        env,
        'SCORE_UPDATE',
        z.string().toLowerCase().pipe(z.enum(SCORE_UPDATES)),
        'own',
        SCORE_UPDATES.join(', '),
      ),
      indicatorConfidence: parse(
        env,
        'INDICATOR_CONFIDENCE',
        z.union([z.string().toLowerCase().pipe(z.literal('evidence')), int(0, 100)]),
        'evidence',
        'evidence or an integer from 0 to 100',
      ),
    },
    webhookToken: read(env, 'WEBHOOK_TOKEN'),
    cacheTtlHours: parse(env, 'CACHE_TTL_HOURS', int(0, 24 * 365), '24', 'hours from 0 to 8760'),
    reenrich: {
      staleAfterDays: parse(env, 'REENRICH_STALE_DAYS', int(1, 3650), '30', 'days from 1 to 3650'),
      budget: parse(env, 'REENRICH_BUDGET', int(0, 100000), '100', 'an integer from 0 to 100000'),
      filter: read(env, 'REENRICH_FILTER'),
      scope: parse(
        env,
        'REENRICH_SCOPE',
        z
          .string()
          .toLowerCase()
          .pipe(z.enum(['own', 'all'])),
        'own',
        'own (observables this connector enriched before) or all',
      ),
    },
    queue: {
      maxReceiveCount: parse(env, 'QUEUE_MAX_RECEIVE_COUNT', int(1, 100), '5', 'an integer from 1 to 100'),
      visibilityTimeoutSeconds: parse(
        env,
        'QUEUE_VISIBILITY_SECONDS',
        int(1, 43200),
        '180',
        'seconds from 1 to 43200',
      ),
    },
    port: parse(env, 'PORT', int(0, 65535), '8080', 'a TCP port from 0 to 65535'),
    dataDir: read(env, 'DATA_DIR') ?? '.data',
    logLevel: parse(
      env,
      'LOG_LEVEL',
      z
        .string()
        .toUpperCase()
        .pipe(z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR'])),
      'INFO',
      'DEBUG, INFO, WARN or ERROR',
    ),
  };
}
