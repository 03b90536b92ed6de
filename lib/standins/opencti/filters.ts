/**
 * OpenCTI FilterGroup evaluation for the stand-in's observable list: the keys and operators the
 * sweep and typical REENRICH_FILTER values use. Anything else is refused with a GraphQL error
 * naming the stand-in, rather than silently matching.
 */
import { GraphQLError } from 'graphql';
import type { StandInObservable } from './model';

interface FilterInput {
  key: string[] | string;
  values: unknown[];
  operator?: string;
  mode?: string;
}

export interface FilterGroupInput {
  mode: string;
  filters: FilterInput[];
  filterGroups: FilterGroupInput[];
}

function unsupported(what: string): GraphQLError {
  return new GraphQLError(`The OpenCTI stand-in does not support ${what}`, {
    extensions: { code: 'UNSUPPORTED_ERROR' },
  });
}

const KEYS = new Set([
  'entity_type',
  'updated_at',
  'created_at',
  'value',
  'observable_value',
  'x_opencti_score',
  'objectMarking',
  'objectLabel',
]);
const OPERATORS = new Set([
  'eq',
  'not_eq',
  'lt',
  'lte',
  'gt',
  'gte',
  'contains',
  'not_contains',
  'starts_with',
  'not_starts_with',
  'ends_with',
  'not_ends_with',
  'nil',
  'not_nil',
]);

/** Refuses, before any matching, a group using a key or operator the stand-in cannot evaluate. */
export function assertSupported(group: FilterGroupInput): void {
  for (const filter of group.filters) {
    for (const key of Array.isArray(filter.key) ? filter.key : [filter.key]) {
      if (!KEYS.has(key)) throw unsupported(`the filter key "${key}"`);
    }
    const operator = filter.operator ?? 'eq';
    if (!OPERATORS.has(operator)) throw unsupported(`the filter operator "${operator}"`);
  }
  group.filterGroups.forEach(assertSupported);
}

/** The values an observable has for a filter key (OpenCTI filters on ids and attribute names). */
function valuesOf(entity: StandInObservable, key: string): unknown[] {
  switch (key) {
    case 'entity_type':
      return [entity.entity_type];
    case 'updated_at':
      return [entity.updated_at];
    case 'created_at':
      return [entity.created_at ?? entity.updated_at];
    case 'value':
    case 'observable_value':
      return [entity.observable_value];
    case 'x_opencti_score':
      return entity.score === undefined ? [] : [entity.score];
    case 'objectMarking':
      return (entity.markings ?? []).flatMap((m) => (m.id ? [m.id, m.standard_id] : [m.standard_id]));
    case 'objectLabel':
      return entity.labels ?? [];
    default:
      throw unsupported(`the filter key "${key}"`);
  }
}

function comparable(value: unknown): number | string {
  if (typeof value === 'number') return value;
  const text = String(value);
  const time = Date.parse(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(time)) return time;
  const n = Number(text);
  return text !== '' && !Number.isNaN(n) ? n : text;
}

function compare(actual: unknown, expected: unknown, operator: string): boolean {
  const a = comparable(actual);
  const b = comparable(expected);
  switch (operator) {
    case 'eq':
      return a === b;
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
    case 'contains':
      return String(actual).toLowerCase().includes(String(expected).toLowerCase());
    case 'starts_with':
      return String(actual).toLowerCase().startsWith(String(expected).toLowerCase());
    case 'ends_with':
      return String(actual).toLowerCase().endsWith(String(expected).toLowerCase());
    default:
      throw unsupported(`the filter operator "${operator}"`);
  }
}

const NEGATED: Record<string, string> = {
  not_eq: 'eq',
  not_contains: 'contains',
  not_starts_with: 'starts_with',
  not_ends_with: 'ends_with',
};

function matchesFilter(entity: StandInObservable, filter: FilterInput): boolean {
  const keys = Array.isArray(filter.key) ? filter.key : [filter.key];
  const operator = filter.operator ?? 'eq';
  // Several keys: the filter matches when any of them does (OpenCTI's multi-key semantics).
  return keys.some((key) => {
    const actual = valuesOf(entity, key);
    if (operator === 'nil') return actual.length === 0;
    if (operator === 'not_nil') return actual.length > 0;
    const positive = NEGATED[operator];
    const test = (expected: unknown) => actual.some((a) => compare(a, expected, positive ?? operator));
    const hit = filter.mode === 'and' ? filter.values.every(test) : filter.values.some(test);
    return positive ? !hit : hit;
  });
}

export function matchesFilterGroup(entity: StandInObservable, group: FilterGroupInput): boolean {
  const results = [
    ...group.filters.map((f) => () => matchesFilter(entity, f)),
    ...group.filterGroups.map((g) => () => matchesFilterGroup(entity, g)),
  ];
  if (results.length === 0) return true;
  return group.mode === 'or' ? results.some((r) => r()) : results.every((r) => r());
}
