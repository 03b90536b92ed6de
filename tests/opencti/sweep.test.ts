import { Agent } from 'undici';
import { ConfigError } from '../../lib/config';
import { parsePlatformVersion } from '../../lib/opencti/platform-version';
import {
  findStaleObservables,
  parseUserFilter,
  sweepFilter,
  type StaleObservable,
  type SweepOptions,
} from '../../lib/opencti/sweep';
import {
  startOpenCtiStandIn,
  tlpMarking,
  type OpenCtiStandIn,
  type StandInObservable,
} from '../../lib/standins/opencti';
import { settingsFor, testClient } from './support';

const agent = new Agent();
afterAll(() => agent.close());

const STALE_BEFORE = new Date('2026-01-01T00:00:00.000Z');

function obs(
  n: number,
  entityType: string,
  value: string,
  updatedAt: string,
  extra: Partial<StandInObservable> = {},
) {
  return {
    standard_id: `${entityType.toLowerCase()}--00000000-0000-5000-8000-${String(n).padStart(12, '0')}`,
    entity_type: entityType,
    observable_value: value,
    updated_at: updatedAt,
    ...extra,
  };
}

const OBSERVABLES: StandInObservable[] = [
  obs(1, 'IPv4-Addr', '8.8.8.8', '2025-12-01T00:00:00.000Z', {
    markings: [
      tlpMarking('TLP:GREEN'),
      { standard_id: 'marking-definition--pap', definition_type: 'PAP', definition: 'PAP:CLEAR' },
    ],
  }),
  obs(2, 'Domain-Name', 'example.com', '2025-06-01T00:00:00.000Z', { labels: ['watch'] }),
  obs(3, 'Url', 'https://example.com/a', '2025-09-01T00:00:00.000Z', { labels: ['watch'] }),
  obs(4, 'IPv6-Addr', '2001:db8::1', '2025-11-01T00:00:00.000Z'),
  obs(5, 'Hostname', 'www.example.com', '2025-10-01T00:00:00.000Z'),
  obs(6, 'IPv4-Addr', '1.1.1.1', '2026-02-01T00:00:00.000Z'), // fresh
  obs(7, 'Email-Addr', 'a@example.com', '2025-01-01T00:00:00.000Z'), // not in scope
];

describe('findStaleObservables', () => {
  let standIn: OpenCtiStandIn;
  beforeEach(async () => {
    standIn = await startOpenCtiStandIn({ observables: OBSERVABLES });
  });
  afterEach(() => standIn.close());

  async function sweep(options: Partial<SweepOptions> = {}): Promise<StaleObservable[]> {
    const { client } = testClient(settingsFor(standIn), agent);
    const found: StaleObservable[] = [];
    for await (const o of findStaleObservables(client, {
      types: ['IPv4-Addr', 'IPv6-Addr', 'Domain-Name', 'Hostname', 'Url'],
      staleBefore: STALE_BEFORE,
      budget: 100,
      ...options,
    })) {
      found.push(o);
    }
    return found;
  }

  it('yields the stale observables of the scope, oldest first, as jobs need them', async () => {
    const found = await sweep();
    expect(found.map((o) => [o.type, o.value])).toEqual([
      ['domain-name', 'example.com'],
      ['url', 'https://example.com/a'],
      ['hostname', 'www.example.com'],
      ['ipv6-addr', '2001:db8::1'],
      ['ipv4-addr', '8.8.8.8'],
    ]);
    expect(found[4]).toEqual({
      type: 'ipv4-addr',
      value: '8.8.8.8',
      stixId: 'ipv4-addr--00000000-0000-5000-8000-000000000001',
      // TLP markings only: the PAP marking says nothing about what may be sent out.
      markingRefs: ['marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da'],
      entityId: expect.any(String),
      updatedAt: '2025-12-01T00:00:00.000Z',
    });
    expect(found[0]?.markingRefs).toEqual([]);
  });

  it('asks OpenCTI for the scope types, updated_at before the cut-off, ordered by updated_at', async () => {
    await sweep({ types: ['IPv4-Addr'] });
    expect(standIn.requests[0]?.variables).toEqual({
      types: ['IPv4-Addr'],
      filters: {
        mode: 'and',
        filters: [{ key: ['updated_at'], operator: 'lt', values: ['2026-01-01T00:00:00.000Z'], mode: 'or' }],
        filterGroups: [],
      },
      first: 100,
      after: null,
      orderBy: 'updated_at',
      orderMode: 'asc',
    });
  });

  it('pages with the cursor OpenCTI returns', async () => {
    const found = await sweep({ pageSize: 2 });
    expect(found).toHaveLength(5);
    const pages = standIn.requests.map((r) => r.variables);
    expect(pages).toHaveLength(3);
    expect(pages[0]?.after).toBeNull();
    expect(pages[1]?.after).toEqual(expect.any(String));
    expect(pages[2]?.after).not.toEqual(pages[1]?.after);
  });

  it('stops at the budget, asking only for what it still needs', async () => {
    const found = await sweep({ pageSize: 2, budget: 3 });
    expect(found.map((o) => o.value)).toEqual(['example.com', 'https://example.com/a', 'www.example.com']);
    expect(standIn.requests.map((r) => r.variables.first)).toEqual([2, 1]);
  });

  it('asks nothing with a zero budget', async () => {
    expect(await sweep({ budget: 0 })).toEqual([]);
    expect(standIn.requests).toHaveLength(0);
  });

  it('narrows with the user filter (REENRICH_FILTER), combined with staleness', async () => {
    const filter = JSON.stringify({
      mode: 'and',
      filters: [{ key: 'objectLabel', values: ['watch'] }],
      filterGroups: [],
    });
    const found = await sweep({ filter });
    expect(found.map((o) => o.value)).toEqual(['example.com', 'https://example.com/a']);
    expect(standIn.requests[0]?.variables.filters).toEqual({
      mode: 'and',
      filters: [{ key: ['updated_at'], operator: 'lt', values: ['2026-01-01T00:00:00.000Z'], mode: 'or' }],
      filterGroups: [
        { mode: 'and', filters: [{ key: ['objectLabel'], values: ['watch'] }], filterGroups: [] },
      ],
    });
  });

  it.each([
    ['not json', /not valid JSON/],
    ['{"mode":"xor","filters":[],"filterGroups":[]}', /mode/],
    ['{"mode":"and","filters":[{"key":[],"values":[]}]}', /key/],
    ['{"mode":"and","filters":[{"key":["x"],"values":[],"operator":"near"}]}', /operator/],
  ])('refuses an invalid REENRICH_FILTER %s before asking OpenCTI', async (filter, problem) => {
    const error = await sweep({ filter }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('REENRICH_FILTER');
    expect((error as Error).message).toMatch(problem);
    expect(standIn.requests).toHaveLength(0);
  });
});

describe('parseUserFilter per platform line', () => {
  const withOperator = (operator: string) =>
    JSON.stringify({ mode: 'and', filters: [{ key: 'entity_type', operator, values: ['x'] }] });
  const accepts = (raw: string | undefined, operator: string) => {
    try {
      parseUserFilter(withOperator(operator), raw ? parsePlatformVersion(raw) : undefined);
      return true;
    } catch (error) {
      if (error instanceof ConfigError) return false;
      throw error;
    }
  };

  it.each([
    // platform, script, only_eq_to, has_changed
    ['6.9.17', true, false, false],
    ['7.260309.0-lts.7', true, true, false],
    ['7.260401.0', false, true, true],
    ['7.260817.0', false, true, true],
    [undefined, true, false, false],
  ] as const)('on %s: script %s, only_eq_to %s, has_changed %s', (raw, script, onlyEq, changed) => {
    expect([accepts(raw, 'script'), accepts(raw, 'only_eq_to'), accepts(raw, 'has_changed')]).toEqual([
      script,
      onlyEq,
      changed,
    ]);
    expect(accepts(raw, 'eq')).toBe(true);
    expect(accepts(raw, 'near')).toBe(false);
  });
});

describe('sweepFilter', () => {
  it('fills in missing filterGroups of the user filter', () => {
    expect(
      sweepFilter(
        STALE_BEFORE,
        '{"mode":"or","filters":[{"key":"x_opencti_score","operator":"gte","values":[50]}]}',
      ),
    ).toMatchObject({
      filterGroups: [{ mode: 'or', filterGroups: [], filters: [{ key: ['x_opencti_score'] }] }],
    });
  });
});
