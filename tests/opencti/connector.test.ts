import { Agent } from 'undici';
import {
  ConnectorNotRegisteredError,
  keepConnectorAlive,
  pingConnector,
  readConnector,
  registerConnector,
} from '../../lib/opencti/connector';
import { startOpenCtiStandIn, type OpenCtiStandIn } from '../../lib/standins/opencti';
import { CONNECTOR_ID, settingsFor, testClient } from './support';

const agent = new Agent();
afterAll(() => agent.close());

describe('connector lifecycle', () => {
  let standIn: OpenCtiStandIn;
  beforeEach(async () => {
    // A platform that knows no connector yet, as before the first registration.
    standIn = await startOpenCtiStandIn({ knownConnectors: [] });
  });
  afterEach(() => standIn.close());

  it('registers as a playbook-compatible internal enrichment connector that never re-enriches on update', async () => {
    const settings = { ...settingsFor(standIn), scope: ['IPv4-Addr', 'Url'] as const, auto: true };
    const registered = await registerConnector(testClient(settings, agent).client, settings);

    expect(standIn.requests[0]?.variables).toEqual({
      input: {
        id: CONNECTOR_ID,
        name: 'Criminal IP',
        type: 'INTERNAL_ENRICHMENT',
        scope: ['IPv4-Addr', 'Url'],
        auto: true,
        auto_update: false,
        playbook_compatible: true,
        listen_callback_uri: 'https://hooks.example.org/opencti/callback',
      },
    });
    expect(registered).toMatchObject({
      id: CONNECTOR_ID,
      auto_update: false,
      playbook_compatible: true,
      config: { listen_callback_uri: 'https://hooks.example.org/opencti/callback' },
    });
    expect(standIn.connectors().get(CONNECTOR_ID)).toMatchObject({
      type: 'INTERNAL_ENRICHMENT',
      registrations: 1,
    });
  });

  it('registers without a callback URI when none is configured', async () => {
    const settings = { ...settingsFor(standIn), callbackUrl: undefined };
    await registerConnector(testClient(settings, agent).client, settings);
    expect(standIn.requests[0]?.variables).toMatchObject({ input: { listen_callback_uri: null } });
  });

  it('pings with the state "{}" and keeps the connector active', async () => {
    const settings = settingsFor(standIn);
    const { client } = testClient(settings, agent);
    await registerConnector(client, settings);
    const ping = await pingConnector(client, settings);
    expect(ping).toMatchObject({ id: CONNECTOR_ID, active: true });
    expect(standIn.requests[1]).toMatchObject({
      operationName: 'PingConnector',
      variables: { id: CONNECTOR_ID, state: '{}' },
    });
    expect(standIn.connectors().get(CONNECTOR_ID)).toMatchObject({ pings: 1, state: '{}' });
  });

  it('says plainly when the connector is not registered', async () => {
    const settings = settingsFor(standIn);
    const error = await pingConnector(testClient(settings, agent).client, settings).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorNotRegisteredError);
    expect((error as Error).message).toMatch(/CONNECTOR_ID/);
    expect((error as Error).message).toMatch(/register/);
  });

  it('keeps the connector alive: registers when unknown, then only pings', async () => {
    const settings = settingsFor(standIn);
    const { client } = testClient(settings, agent);
    expect(await keepConnectorAlive(client, settings)).toEqual({
      action: 'registered',
      connectorId: CONNECTOR_ID,
    });
    expect(await keepConnectorAlive(client, settings)).toEqual({
      action: 'pinged',
      connectorId: CONNECTOR_ID,
    });
    expect(standIn.requests.map((r) => r.operationName)).toEqual([
      'PingConnector',
      'RegisterConnector',
      'PingConnector',
    ]);
    expect(standIn.connectors().get(CONNECTOR_ID)).toMatchObject({ registrations: 1, pings: 1 });
  });

  it('reads the connector back, null before registration', async () => {
    const settings = settingsFor(standIn);
    const { client } = testClient(settings, agent);
    expect(await readConnector(client, settings)).toBeNull();
    await registerConnector(client, settings);
    expect(await readConnector(client, settings)).toMatchObject({
      id: CONNECTOR_ID,
      playbook_compatible: true,
    });
  });
});
