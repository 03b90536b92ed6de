import { Agent, request } from 'undici';
import { WORK_ADD } from '../../../lib/opencti/documents';
import { startOpenCtiStandIn, tlpMarking, type OpenCtiStandIn } from '../../../lib/standins/opencti';
import { FaultInjector } from '../../../lib/standins/opencti/faults';
import { Platform } from '../../../lib/standins/opencti/platform';
import { standInSchema } from '../../../lib/standins/opencti/schema';

const agent = new Agent();
afterAll(() => agent.close());

async function post(
  standIn: Pick<OpenCtiStandIn, 'url' | 'token'>,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  json: { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}> {
  const res = await request(`${standIn.url}/graphql`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${standIn.token}`, ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: text.startsWith('{') ? JSON.parse(text) : { text } };
}

const workAdd = (friendlyName = 'job') => ({
  query: WORK_ADD.query,
  variables: { connectorId: 'c-1', friendlyName },
  operationName: 'WorkAdd',
});

describe('OpenCTI stand-in server', () => {
  let standIn: OpenCtiStandIn;
  beforeEach(async () => {
    standIn = await startOpenCtiStandIn({ seed: 7 });
  });
  afterEach(() => standIn.close());

  it('listens on loopback and answers a valid operation', async () => {
    expect(standIn.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { status, json } = await post(standIn, workAdd());
    expect(status).toBe(200);
    expect(json.errors).toBeUndefined();
    const id = (json.data as { workAdd: { id: string } }).workAdd.id;
    expect(standIn.works().get(id)).toMatchObject({ name: 'job', status: 'wait', connectorId: 'c-1' });
  });

  it('records operation name, variables, time and draft header of every request', async () => {
    await post(standIn, workAdd('first'), { 'opencti-draft-id': 'draft-9' });
    await post(standIn, { query: '{ nonsense }' });
    expect(standIn.requests).toHaveLength(2);
    const [first, second] = standIn.requests;
    expect(first).toMatchObject({
      operationName: 'WorkAdd',
      operationType: 'mutation',
      variables: { connectorId: 'c-1', friendlyName: 'first' },
      draftId: 'draft-9',
      authorized: true,
      outcome: 'ok',
      status: 200,
    });
    expect(Number.isNaN(Date.parse(first?.at ?? ''))).toBe(false);
    expect(second).toMatchObject({
      outcome: 'rejected',
      status: 400,
      errorCode: 'GRAPHQL_VALIDATION_FAILED',
    });
  });

  it('rejects a document that does not validate against the OpenCTI schema', async () => {
    const { status, json } = await post(standIn, {
      query: 'mutation WorkAdd($c: String!) { workAdd(connectorId: $c) { id notAField } }',
      variables: { c: 'c-1' },
    });
    expect(status).toBe(400);
    expect(json.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(json.errors?.[0]?.message).toMatch(/notAField/);
    expect(standIn.works().size).toBe(0);
  });

  it('rejects an aliased batch of mutations, as OpenCTI does', async () => {
    const { status, json } = await post(standIn, {
      query:
        'mutation Two($c: String!) { a: workAdd(connectorId: $c) { id } b: workAdd(connectorId: $c) { id } }',
      variables: { c: 'c-1' },
    });
    expect(status).toBe(400);
    expect(json.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(json.errors?.[0]?.message).toMatch(/workAdd/);
    expect(standIn.works().size).toBe(0);
  });

  it('rejects a document with two operations', async () => {
    const { status } = await post(standIn, {
      query: `${WORK_ADD.query}\nquery Other($id: String!) { connector(id: $id) { id } }`,
      variables: { connectorId: 'c-1' },
      operationName: 'WorkAdd',
    });
    expect(status).toBe(400);
  });

  it('rejects variables that do not match their declared types', async () => {
    const { status, json } = await post(standIn, { query: WORK_ADD.query, variables: { friendlyName: 3 } });
    expect(status).toBe(400);
    expect(json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('answers AUTH_REQUIRED to a wrong token, before doing anything', async () => {
    const { status, json } = await post(standIn, workAdd(), { authorization: 'Bearer not-the-token' });
    expect(status).toBe(200);
    expect(json.errors?.[0]?.extensions?.code).toBe('AUTH_REQUIRED');
    expect(standIn.works().size).toBe(0);
    expect(standIn.requests[0]?.authorized).toBe(false);
  });

  it('answers 404 outside POST /graphql', async () => {
    const res = await request(`${standIn.url}/other`, { dispatcher: agent });
    await res.body.text();
    expect(res.statusCode).toBe(404);
  });

  it('refuses an invalid bundle push like OpenCTI ("Invalid bundle")', async () => {
    const { json } = await post(standIn, {
      query:
        'mutation StixBundlePush($c: String!, $b: String!) { stixBundlePush(connectorId: $c, bundle: $b) }',
      variables: { c: 'c-1', b: JSON.stringify({ type: 'bundle', id: 'bundle--1', objects: [] }) },
    });
    expect(json.errors?.[0]).toMatchObject({
      message: 'Invalid bundle',
      extensions: { code: 'FUNCTIONAL_ERROR' },
    });
    expect(standIn.bundles()).toEqual([]);
  });

  it('implements every root field of its schema', () => {
    const platform = new Platform({
      knownConnectors: 'any',
      markings: {},
      observables: [],
      now: () => new Date(),
      newId: () => 'x',
    });
    const implemented = Object.keys(platform.rootValue()).sort();
    const schema = standInSchema();
    const fields = [schema.getQueryType(), schema.getMutationType()].flatMap((t) =>
      Object.keys(t?.getFields() ?? {}),
    );
    expect(implemented).toEqual(fields.sort());
  });

  it('answers the markings read from its map', async () => {
    standIn.setMarkings('ipv4-addr--1', [tlpMarking('TLP:RED')]);
    const { json } = await post(standIn, {
      query: 'query M($id: String!) { stixCoreObject(id: $id) { entity_type objectMarking { definition } } }',
      variables: { id: 'ipv4-addr--1' },
    });
    expect(json.data).toEqual({
      stixCoreObject: { entity_type: 'IPv4-Addr', objectMarking: [{ definition: 'TLP:RED' }] },
    });
  });

  it('refuses observables of an entity type OpenCTI does not have', () => {
    expect(() =>
      standIn.setObservables([
        {
          standard_id: 'x--1',
          entity_type: 'Not-A-Type',
          observable_value: 'x',
          updated_at: '2024-01-01T00:00:00.000Z',
        },
      ]),
    ).toThrow(/Not-A-Type/);
  });
});

describe('OpenCTI stand-in faults', () => {
  async function outcomes(seed: number, count: number): Promise<string[]> {
    const standIn = await startOpenCtiStandIn({ seed, faults: { http5xx: 0.3, graphqlError: 0.3 } });
    try {
      for (let i = 0; i < count; i += 1) await post(standIn, workAdd(`w${i}`));
      return standIn.requests.map((r) => r.outcome);
    } finally {
      await standIn.close();
    }
  }

  it('replays the same faults for the same seed', async () => {
    const a = await outcomes(42, 20);
    const b = await outcomes(42, 20);
    expect(a).toEqual(b);
    expect(a).toContain('fault-http');
    expect(a).toContain('fault-graphql');
    expect(a).toContain('ok');
  });

  it('injects HTTP 5xx with a non-JSON body, GraphQL errors with the configured code, up to the limit', async () => {
    const standIn = await startOpenCtiStandIn({ faults: { http5xx: 1, limit: 1 } });
    try {
      const first = await post(standIn, workAdd());
      expect([502, 503]).toContain(first.status);
      expect((await post(standIn, workAdd())).status).toBe(200);

      standIn.setFaults({ graphqlError: 1, graphqlErrorCode: 'LOCK_ERROR', operations: ['WorkAdd'] });
      const third = await post(standIn, workAdd());
      expect(third.json.errors?.[0]?.extensions?.code).toBe('LOCK_ERROR');
      const other = await post(standIn, {
        query: 'query C($id: String!) { connector(id: $id) { id } }',
        variables: { id: 'c-1' },
      });
      expect(other.json.errors).toBeUndefined();
    } finally {
      await standIn.close();
    }
  });

  it('can hang a request, and still closes', async () => {
    const standIn = await startOpenCtiStandIn({ faults: { hang: 1 } });
    const pending = post(standIn, workAdd()).catch((error: Error) => error);
    // The request is recorded once it has arrived; wait for that, however slow the machine.
    for (let i = 0; i < 200 && standIn.requests[0]?.outcome !== 'fault-hang'; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(standIn.requests[0]?.outcome).toBe('fault-hang');
    await standIn.close();
    expect(await pending).toBeInstanceOf(Error);
  });

  it('refuses rates outside 0..1 or adding up to more than 1', () => {
    expect(() => new FaultInjector(1, { hang: 2 })).toThrow(RangeError);
    expect(() => new FaultInjector(1, { hang: 0.6, http5xx: 0.6 })).toThrow(RangeError);
  });
});
