/**
 * What a 7.x operator meets, over real HTTP against the stand-in playing each platform line:
 * registration sends `version` / `slug` only where RegisterConnectorInput has them, the 7.x
 * refusals each say what to do, and a `flgrn_octi_tkn_…` token is a token like any other.
 */
import { Agent } from 'undici';
import packageJson from '../../package.json';
import { loadConfig } from '../../lib/config';
import { CONNECTOR_SLUG, pingConnector, registerConnector } from '../../lib/opencti/connector';
import {
  LtsActivationRequiredError,
  TokenCapabilityError,
  TokenExpiredError,
} from '../../lib/opencti/errors';
import { detectPlatform } from '../../lib/opencti/platform-version';
import {
  STAND_IN_PLATFORMS,
  startOpenCtiStandIn,
  type OpenCtiStandIn,
  type StandInAccessError,
} from '../../lib/standins/opencti';
import { CONNECTOR_ID, settingsFor, testClient } from './support';

const agent = new Agent();
afterAll(() => agent.close());

let standIn: OpenCtiStandIn | undefined;
afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

describe('registration on each platform line', () => {
  it.each(STAND_IN_PLATFORMS)(
    'on %s: the version is detected and the registration carries no field the platform lacks',
    async (platform) => {
      standIn = await startOpenCtiStandIn({ platform, knownConnectors: [] });
      const settings = settingsFor(standIn);
      const { client } = testClient(settings, agent);

      const facts = await detectPlatform(client);
      expect(facts.version.raw).toBe(platform);
      expect(facts.registerInputFields).toEqual(expect.arrayContaining(['id', 'listen_callback_uri']));
      expect(facts.registerInputFields).not.toContain('version');

      const record = await registerConnector(client, settings, facts);
      const sent = standIn.requests.find((r) => r.operationName === 'RegisterConnector');
      // The stand-in validates every document and its variables against that platform's schema.
      const input = (sent?.variables as { input: Record<string, unknown> }).input;
      expect(input).toMatchObject({ id: CONNECTOR_ID, type: 'INTERNAL_ENRICHMENT' });
      expect(Object.keys(input)).not.toEqual(expect.arrayContaining(['version']));
      expect(Object.keys(input)).not.toEqual(expect.arrayContaining(['slug']));
      expect(record.id).toBe(CONNECTOR_ID);
      if (platform.startsWith('7.')) {
        expect(JSON.parse(record.jwks ?? 'null')).toMatchObject({ keys: [{ kty: 'OKP', crv: 'Ed25519' }] });
      } else {
        expect(record.jwks).toBeUndefined();
      }
    },
  );

  it('sends the release as version and a stable slug to a platform whose input takes them', async () => {
    standIn = await startOpenCtiStandIn({
      platform: '7.260817.0',
      registerInputExtras: true,
      knownConnectors: [],
    });
    const settings = settingsFor(standIn);
    const { client } = testClient(settings, agent);
    const facts = await detectPlatform(client);
    expect(facts.registerInputFields).toEqual(expect.arrayContaining(['version', 'slug']));

    await registerConnector(client, settings, facts);
    const sent = standIn.requests.find((r) => r.operationName === 'RegisterConnector');
    expect(sent?.variables).toMatchObject({
      input: { id: CONNECTOR_ID, version: packageJson.version, slug: CONNECTOR_SLUG },
    });
    expect(CONNECTOR_SLUG).toMatch(/^[a-z0-9-]+$/);
  });
});

describe('7.x refusals say what to do', () => {
  const cases: Array<[StandInAccessError, new (...args: never[]) => Error, RegExp]> = [
    ['lts-activation', LtsActivationRequiredError, /LTS_REQUIRED_ACTIVATION.*Activate the LTS licence/],
    ['token-capability', TokenCapabilityError, /not allowed to use API Access Tokens.*APIACCESS_USETOKEN/],
    ['token-expired', TokenExpiredError, /OPENCTI_TOKEN has expired.*Create a new API token/],
  ];

  it.each(cases)('%s: a typed error, one line, not retried', async (accessError, type, message) => {
    standIn = await startOpenCtiStandIn({ platform: '7.260309.0-lts.7', accessError });
    const settings = settingsFor(standIn);
    const { client, sleeps } = testClient(settings, agent);

    const error = await pingConnector(client, settings).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
    expect((error as Error).message).not.toContain(standIn.token);
    expect((error as { retryable: boolean }).retryable).toBe(false);
    // Retrying cannot help: the operator has to act, so the client does not wait and ask again.
    expect(sleeps).toEqual([]);
    expect(standIn.requests).toHaveLength(1);
  });
});

describe('7.x API tokens', () => {
  it('takes a flgrn_octi_tkn_ token from the configuration and authenticates with it', async () => {
    standIn = await startOpenCtiStandIn({ platform: '7.260817.0', knownConnectors: [] });
    expect(standIn.token).toMatch(/^flgrn_octi_tkn_/);
    const config = loadConfig({
      OPENCTI_URL: standIn.url,
      OPENCTI_TOKEN: standIn.token,
      CRIMINALIP_API_KEY: 'a-criminal-ip-key',
      CONNECTOR_ID,
    });
    expect(config.opencti.token).toBe(standIn.token);

    const settings = { ...settingsFor(standIn), token: config.opencti.token };
    await registerConnector(testClient(settings, agent).client, settings);
    expect(standIn.connectors().get(CONNECTOR_ID)).toMatchObject({ registrations: 1 });
  });
});
