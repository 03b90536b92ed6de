/**
 * Which OpenCTI the connector talks to, and what follows from it (docs/opencti-7.md):
 *
 *   6.9.x                 static token on the callback, 6.9 id rules, `script` filters;
 *   7.x (7.260224.0+)     callback JWT verified with `Connector.jwks`;
 *   7.260309.0-lts.N      the LTS line: 7.x auth, but ids and filters of its 7.260309.0 base;
 *   7.260401.0+           `script` filters refused;
 *   7.260416.0+           ids from trimmed strings, Note ids with `attribute_abstract`;
 *   7.260422.0+           Software ids from the lower-cased name.
 *
 * Versions are calendar versions since 7.x (7.YYMMDD.patch), so "since release X" compares the
 * middle number. The version is asked once (`about { version }`, valid on every line) at
 * registration / ping, stored in the ledger, and passed down from there.
 */
import type { OpenCtiClient } from './client';
import { PLATFORM_VERSION, READ_CONNECTOR_JWKS, TYPE_FIELDS, type FilterOperator } from './documents';
import { ValidationError } from './errors';
import type { IdRules } from '../stix/id-rules';

export interface PlatformVersion {
  /** As the platform reports it, e.g. "7.260309.0-lts.7". */
  raw: string;
  major: number;
  /** 6.9.17 → 9; 7.260817.0 → 260817 (the release date, YYMMDD). */
  minor: number;
  patch: number;
  lts: boolean;
}

/** The latest 7.x this project was checked against (docs/opencti-7.md): the default rules offline. */
export const LATEST_KNOWN_VERSION = '7.260817.0';

export class PlatformVersionError extends Error {
  constructor(raw: string) {
    super(
      `OpenCTI version "${raw.slice(0, 40)}" is not a version this connector understands: expected e.g. 6.9.17, 7.260309.0-lts.7 or 7.260817.0 (OPENCTI_VERSION)`,
    );
    this.name = 'PlatformVersionError';
  }
}

export function parsePlatformVersion(raw: string): PlatformVersion {
  const match = /^\s*v?(\d+)\.(\d+)\.(\d+)(?:[-.]?(lts)(?:[.-]?\d+)?)?(?:[-+.][0-9A-Za-z.-]*)?\s*$/i.exec(
    raw,
  );
  if (!match) throw new PlatformVersionError(raw);
  return {
    raw: raw.trim(),
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3]),
    lts: match[4] !== undefined,
  };
}

/** True from the 7.x release `yymmdd` on (never on 6.x). */
function since(version: PlatformVersion, yymmdd: number): boolean {
  return version.major > 7 || (version.major === 7 && version.minor >= yymmdd);
}

/** 7.x publishes `Connector.jwks` and sends a JWT to the callback; 6.9 does neither. */
export function hasConnectorJwks(version: PlatformVersion): boolean {
  return version.major >= 7;
}

/** The id formulas of that version's `identifier.js`. */
export function idRulesFor(version: PlatformVersion): IdRules {
  return {
    trimStrings: since(version, 260416),
    noteAbstract: since(version, 260416),
    softwareLowerCaseName: since(version, 260422),
  };
}

/** The operators of OpenCTI 6.9's FilterOperator enum; 7.x differs (filterOperatorsFor). */
export const FILTER_OPERATORS_6_9: readonly FilterOperator[] = [
  'eq',
  'not_eq',
  'lt',
  'lte',
  'gt',
  'gte',
  'match',
  'wildcard',
  'contains',
  'not_contains',
  'ends_with',
  'not_ends_with',
  'starts_with',
  'not_starts_with',
  'script',
  'nil',
  'not_nil',
  'search',
  'within',
];

/** The filter operators the platform accepts (REENRICH_FILTER is checked against them). */
export function filterOperatorsFor(version: PlatformVersion): readonly FilterOperator[] {
  if (version.major < 7) return FILTER_OPERATORS_6_9;
  const operators: FilterOperator[] = [...FILTER_OPERATORS_6_9];
  // In the FilterOperator enum since 7.260309.0 (the LTS base has them).
  if (since(version, 260309)) operators.push('only_eq_to', 'not_only_eq_to');
  // Added after 7.260309.0 (docs/opencti-7.md §2, "later"): counted from 7.260401.0.
  if (since(version, 260401)) operators.push('has_changed', 'not_has_changed');
  // "Filter script is not allowed" since 7.260401.0.
  return since(version, 260401) ? operators.filter((o) => o !== 'script') : operators;
}

/** The version the offline `--dry-run` follows: OPENCTI_VERSION, else the latest known 7.x. */
export function offlineVersion(env: Record<string, string | undefined>): PlatformVersion {
  const raw = env.OPENCTI_VERSION?.trim();
  return parsePlatformVersion(raw ? raw : LATEST_KNOWN_VERSION);
}

export interface PlatformFacts {
  version: PlatformVersion;
  /** Input fields of RegisterConnectorInput. */
  registerInputFields: string[];
}

/** Asks the platform its version and what its registration input takes (two small queries). */
export async function detectPlatform(client: OpenCtiClient): Promise<PlatformFacts> {
  const about = await client.execute(PLATFORM_VERSION, {});
  const raw = about.about?.version;
  if (typeof raw !== 'string') {
    throw new ValidationError(
      `OpenCTI ${PLATFORM_VERSION.operationName}: the platform did not say its version. Check OPENCTI_URL.`,
      { operation: PLATFORM_VERSION.operationName },
    );
  }
  const version = parsePlatformVersion(raw);
  const type = await client.execute(TYPE_FIELDS, { name: 'RegisterConnectorInput' });
  const registerInputFields = (type.__type?.inputFields ?? []).map((f) => f.name);
  return { version, registerInputFields };
}

/** 7.x: the platform's JWKS (a JSON string), read through the connector record. */
export async function readConnectorJwks(client: OpenCtiClient, connectorId: string): Promise<string> {
  const data = await client.execute(READ_CONNECTOR_JWKS, { id: connectorId });
  const jwks = data.connector?.jwks;
  if (typeof jwks !== 'string' || jwks === '') {
    throw new ValidationError(
      `OpenCTI ${READ_CONNECTOR_JWKS.operationName}: no JWKS for connector ${connectorId}. Register it first (\`criminalip-opencti register\`).`,
      { operation: READ_CONNECTOR_JWKS.operationName },
    );
  }
  return jwks;
}
