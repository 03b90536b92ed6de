/**
 * The re-enrichment sweep's read side: observables of the given types that OpenCTI has not
 * updated since `staleBefore`, oldest first, at most `budget` of them.
 *
 * Staleness is read from `updated_at`: the 6.9.17 schema has no "enriched at" attribute, and
 * every enrichment write-back upserts the observable (score, external reference, author), which
 * moves `updated_at`. The filter sent is
 *
 *   { mode: and, filters: [{ key: [updated_at], operator: lt, values: [staleBefore] }],
 *     filterGroups: [<REENRICH_FILTER, when set>] }
 *
 * with `types` narrowing to the scope, ordered by `updated_at` ascending. An observable that an
 * upsert leaves unchanged keeps its old `updated_at` and is offered again by the next sweep; the
 * pipeline's freshness cache answers such a repeat without calling Criminal IP.
 */
import { ConfigError, type ObservableEntityType } from '../config';
import type { Observable } from '../jobs/types';
import type { ObservableStixType } from '../stix/core';
import type { OpenCtiClient } from './client';
import { filterOperatorsFor, parsePlatformVersion, type PlatformVersion } from './platform-version';
import {
  STALE_OBSERVABLES,
  type Filter,
  type FilterGroup,
  type FilterOperator,
  type ObservablesPage,
} from './documents';

/** STIX type of each OpenCTI observable entity type this product enriches. */
const STIX_TYPE_OF: Readonly<Record<ObservableEntityType, ObservableStixType>> = {
  'IPv4-Addr': 'ipv4-addr',
  'IPv6-Addr': 'ipv6-addr',
  'Domain-Name': 'domain-name',
  Hostname: 'hostname',
  Url: 'url',
};

export interface SweepOptions {
  /** OpenCTI entity types to look at (the connector scope). */
  types: readonly ObservableEntityType[];
  /** Observables updated at or after this instant are fresh and skipped. */
  staleBefore: Date;
  /** REENRICH_FILTER: an OpenCTI FilterGroup (JSON) that must also match. */
  filter?: string;
  /**
   * The connected platform (as registration recorded it): REENRICH_FILTER may use only the
   * operators it accepts. Unknown: those of 6.9, which every supported line reads alike.
   */
  platform?: PlatformVersion;
  /** Observables per GraphQL request. */
  pageSize?: number;
  /** Stop after this many observables. */
  budget: number;
}

/** An observable a job can be built from, with what the TLP gate needs already known. */
export interface StaleObservable extends Observable {
  stixId: string;
  /** Standard ids of the observable's TLP markings; [] when it carries none. */
  markingRefs: string[];
  /** OpenCTI internal id. */
  entityId: string;
  updatedAt: string;
  /** Standard id of the author, when it has one. */
  createdByRef?: string;
}

const DEFAULT_PAGE_SIZE = 100;
/** OpenCTI pages are capped by its search engine; stay well below. */
const MAX_PAGE_SIZE = 500;

/** Every operator some supported platform accepts: any other word is no operator at all. */
const KNOWN_OPERATORS: ReadonlySet<string> = new Set<FilterOperator>([
  ...filterOperatorsFor(parsePlatformVersion('6.9.17')),
  ...filterOperatorsFor(parsePlatformVersion('7.260309.0')),
  ...filterOperatorsFor(parsePlatformVersion('7.260817.0')),
]);

/** What the platform being swept accepts, and its name for the error message. */
interface OperatorRule {
  accepted: ReadonlySet<string>;
  platform: string;
}

function operatorRule(platform: PlatformVersion | undefined): OperatorRule {
  const version = platform ?? parsePlatformVersion('6.9.17');
  return {
    accepted: new Set<string>(filterOperatorsFor(version)),
    platform: platform ? `OpenCTI ${platform.raw}` : 'OpenCTI 6.9 (the platform version is not recorded yet)',
  };
}

function filterProblem(problem: string): ConfigError {
  return new ConfigError(
    'REENRICH_FILTER',
    `must be an OpenCTI FilterGroup as JSON, e.g. {"mode":"and","filters":[{"key":["objectLabel"],"values":["<label id>"]}],"filterGroups":[]}: ${problem}`,
  );
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function toMode(value: unknown, at: string): 'and' | 'or' {
  if (value === 'and' || value === 'or') return value;
  throw filterProblem(`${at}.mode must be "and" or "or"`);
}

function toFilter(value: unknown, at: string, rule: OperatorRule): Filter {
  if (!isRecord(value)) throw filterProblem(`${at} must be an object`);
  const key = typeof value.key === 'string' ? [value.key] : value.key;
  if (!Array.isArray(key) || key.length === 0 || !key.every((k) => typeof k === 'string' && k !== '')) {
    throw filterProblem(`${at}.key must be a non-empty list of attribute names`);
  }
  if (!Array.isArray(value.values)) throw filterProblem(`${at}.values must be a list`);
  const filter: Filter = { key: key as string[], values: value.values };
  if (value.operator !== undefined) {
    if (typeof value.operator !== 'string' || !KNOWN_OPERATORS.has(value.operator)) {
      throw filterProblem(
        `${at}.operator ${JSON.stringify(value.operator)} is not an OpenCTI filter operator`,
      );
    }
    if (!rule.accepted.has(value.operator)) {
      throw filterProblem(
        `${at}.operator "${value.operator}" is not accepted by ${rule.platform}; it accepts ${[...rule.accepted].join(', ')}`,
      );
    }
    filter.operator = value.operator as FilterOperator;
  }
  if (value.mode !== undefined) filter.mode = toMode(value.mode, at);
  return filter;
}

function toFilterGroup(value: unknown, at: string, rule: OperatorRule): FilterGroup {
  if (!isRecord(value)) throw filterProblem(`${at} must be an object`);
  const filters = value.filters ?? [];
  const groups = value.filterGroups ?? [];
  if (!Array.isArray(filters)) throw filterProblem(`${at}.filters must be a list`);
  if (!Array.isArray(groups)) throw filterProblem(`${at}.filterGroups must be a list`);
  return {
    mode: toMode(value.mode ?? 'and', at),
    filters: filters.map((f, i) => toFilter(f, `${at}.filters[${i}]`, rule)),
    filterGroups: groups.map((g, i) => toFilterGroup(g, `${at}.filterGroups[${i}]`, rule)),
  };
}

/**
 * Parses and checks REENRICH_FILTER against the operators `platform` accepts (6.9's when not
 * known); throws ConfigError naming the problem.
 */
export function parseUserFilter(json: string, platform?: PlatformVersion): FilterGroup {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw filterProblem('it is not valid JSON');
  }
  return toFilterGroup(value, 'filter', operatorRule(platform));
}

/** The FilterGroup the sweep sends: stale by `updated_at`, and the user's filter when given. */
export function sweepFilter(staleBefore: Date, userFilter?: string, platform?: PlatformVersion): FilterGroup {
  return {
    mode: 'and',
    filters: [{ key: ['updated_at'], operator: 'lt', values: [staleBefore.toISOString()], mode: 'or' }],
    filterGroups: userFilter ? [parseUserFilter(userFilter, platform)] : [],
  };
}

function isObservableEntityType(type: string): type is ObservableEntityType {
  return Object.prototype.hasOwnProperty.call(STIX_TYPE_OF, type);
}

/** Yields stale observables, oldest first, page by page, until the budget or the list ends. */
export async function* findStaleObservables(
  client: OpenCtiClient,
  options: SweepOptions,
): AsyncGenerator<StaleObservable, void, undefined> {
  const filters = sweepFilter(options.staleBefore, options.filter, options.platform);
  const pageSize = Math.max(1, Math.min(options.pageSize ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE));
  let remaining = options.budget;
  let after: string | null = null;
  if (remaining <= 0 || options.types.length === 0) return;

  for (;;) {
    const data: { stixCyberObservables: ObservablesPage | null } = await client.execute(STALE_OBSERVABLES, {
      types: [...options.types],
      filters,
      first: Math.min(pageSize, remaining),
      after,
      orderBy: 'updated_at',
      orderMode: 'asc',
    });
    const page = data.stixCyberObservables;
    if (!page) return;
    for (const { node } of page.edges) {
      // OpenCTI may widen `types` (abstract types); only what this product enriches is kept.
      if (!isObservableEntityType(node.entity_type)) continue;
      yield {
        type: STIX_TYPE_OF[node.entity_type],
        value: node.observable_value,
        stixId: node.standard_id,
        markingRefs: (node.objectMarking ?? [])
          .filter((m) => (m.definition_type ?? '').toUpperCase() === 'TLP')
          .map((m) => m.standard_id),
        entityId: node.id,
        updatedAt: node.updated_at,
        ...(node.createdBy?.standard_id ? { createdByRef: node.createdBy.standard_id } : {}),
      };
      remaining -= 1;
      if (remaining <= 0) return;
    }
    if (!page.pageInfo.hasNextPage || page.edges.length === 0) return;
    after = page.pageInfo.endCursor;
  }
}
