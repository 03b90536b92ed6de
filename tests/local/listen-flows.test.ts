/**
 * The listen-protocol flows through the local runtime (`npm start`), against the OpenCTI
 * stand-in playing each supported platform: 6.9.17 (the worker sends the connector token), the
 * 7.x LTS and the latest 7.x (the worker sends a JWT signed by the platform key, verified with
 * the JWKS the ping stored). Manual, automatic and playbook enrichment, the TLP gate and the
 * refusals.
 */
import { loadConfig } from '../../lib/config';
import { createConsoleLog } from '../../lib/local/console-log';
import { stixEntityOf } from '../../lib/local/demo-messages';
import { startRuntime, type Runtime } from '../../lib/local/runtime';
import { STAND_IN_PLATFORMS, type StandInPlatform } from '../../lib/standins/opencti';
import { expectValidBundle } from '../helpers/stix-validator';
import { CONNECTOR_ID, postListen, startWorld, waitFor, type World } from './stand-ins';

let world: World;
let runtime: Runtime | undefined;
let lines: string[];

afterEach(async () => {
  await runtime?.stop({ graceMs: 0 });
  runtime = undefined;
  await world.close();
});

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** World + runtime, once the first ping registered the connector (and stored the 7.x JWKS). */
async function start(platform: StandInPlatform): Promise<Runtime> {
  world = await startWorld(platform);
  lines = [];
  runtime = await startRuntime(world.config(), {
    log: createConsoleLog({ write: (line) => lines.push(line), level: 'DEBUG' }),
    settings: { reenrichIntervalMinutes: 0 },
    idlePollMs: 100,
  });
  const r = runtime;
  await waitFor('the connector registration', () => world.octi.connectors().has(CONNECTOR_ID));
  await until('the platform record', async () => (await r.ledger.getPlatform()) !== undefined);
  return r;
}

const workOperations = (workId: string) =>
  world.octi.requests
    .filter((r) => r.outcome === 'ok' && (r.variables.id === workId || r.variables.workId === workId))
    .map((r) => r.operationName ?? '');

async function postCallback(url: string, body: unknown, credential: string): Promise<number> {
  const response = await fetch(`${url}/opencti/callback`, {
    method: 'POST',
    headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

/** The playbook "Enrich through connector" message; 7.260615.0+ adds event.entity_type. */
function playbookMessage(platform: StandInPlatform, value: string) {
  const entity = stixEntityOf({ type: 'ipv4-addr', value, tlp: 'TLP:GREEN' });
  return {
    internal: {
      work_id: null,
      playbook: {
        event_id: 'event-1',
        execution_id: 'execution-1',
        playbook_id: 'playbook-1',
        data_instance_id: entity.id,
        step_id: 'step-2',
        previous_step_id: 'step-1',
      },
      applicant_id: 'automation-user',
      trigger: 'create',
      mode: 'auto',
    },
    event: {
      entity_id: entity.id,
      ...(platform === '7.260817.0' ? { entity_type: 'IPv4-Addr' } : {}),
      bundle: { type: 'bundle', id: 'bundle--6e6a1c1e-0000-4000-8000-000000000001', objects: [entity] },
    },
  };
}

describe.each(STAND_IN_PLATFORMS.map((p) => [p]))('listen protocol against OpenCTI %s', (platform) => {
  const seven = platform !== '6.9.17';

  it('stores what the platform is: its version, and on 7.x its JWKS', async () => {
    const r = await start(platform);
    const record = await r.ledger.getPlatform();
    expect(record?.version).toBe(platform);
    expect(record?.jwks).toBe(world.octi.jwks);
    expect(record?.jwks === undefined).toBe(!seven);
  });

  it.each([
    ['manual', 'manual', 'update'],
    ['automatic', 'auto', 'create'],
  ] as const)('runs a %s enrichment to stixBundlePush and toProcessed', async (_name, mode, trigger) => {
    const r = await start(platform);
    const { workId, status } = await postListen(world, r.url, {
      type: 'ipv4-addr',
      value: '64.62.197.76',
      tlp: 'TLP:GREEN',
      mode,
      trigger,
    });
    expect(status).toBe(202);
    await waitFor('the work to be processed', () => world.octi.works().get(workId)?.status === 'complete');
    expect(workOperations(workId)).toEqual(['WorkToReceived', 'StixBundlePush', 'WorkToProcessed']);
    expect(world.octi.works().get(workId)?.inError).toBe(false);
    expectValidBundle(world.octi.pushes().find((p) => p.workId === workId)!.bundle);
    if (seven) {
      // The accepted JWT is logged by key id and issue time, never by value.
      expect(lines.some((line) => line.includes('authenticated with a platform JWT'))).toBe(true);
    }
  });

  it('answers a playbook step with playbookStepExecution', async () => {
    const r = await start(platform);
    const status = await postCallback(
      r.url,
      playbookMessage(platform, '64.62.197.76'),
      await world.octi.callbackCredential(),
    );
    expect(status).toBe(202);
    await waitFor('the playbook answer', () => world.octi.playbookAnswers().length === 1);
    const answer = world.octi.playbookAnswers()[0]!;
    expect(answer.answer).toMatchObject({
      executionId: 'execution-1',
      stepId: 'step-2',
      playbookId: 'playbook-1',
    });
    expectValidBundle(answer.bundle);
  });

  it('keeps a TLP:RED observable away from Criminal IP and closes its work', async () => {
    const r = await start(platform);
    const { workId, status } = await postListen(world, r.url, {
      type: 'ipv4-addr',
      value: '198.51.100.23',
      tlp: 'TLP:RED',
    });
    expect(status).toBe(202);
    await waitFor('the work to be processed', () => world.octi.works().get(workId)?.status === 'complete');
    expect(world.octi.pushes().filter((p) => p.workId === workId)).toHaveLength(0);
    expect(
      world.cip.calls.filter((c) => Object.values(c.query).some((v) => v.includes('198.51.100.23'))),
    ).toHaveLength(0);
  });

  it('refuses wrong credentials with 401 and queues nothing', async () => {
    const r = await start(platform);
    const body = playbookMessage(platform, '64.62.197.76');
    const wrong = ['c5a2e6a4-1b3d-4f5e-9a8b-7c6d5e4f3a2b', 'REPLACE_ME'];
    if (seven) {
      const now = Math.floor(Date.now() / 1000);
      wrong.push(await world.octi.signCallbackJwt({ iat: now - 7300, exp: now - 3700 }));
      wrong.push(await world.octi.signCallbackJwt({ iss: 'someone' }));
      wrong.push(await world.octi.signCallbackJwt({ sub: 'user' }));
    }
    for (const credential of wrong) expect(await postCallback(r.url, body, credential)).toBe(401);
    expect(r.queue.stats()).toMatchObject({ visible: 0 });
    for (const credential of wrong) expect(lines.join('\n')).not.toContain(credential);
  });
});

describe('callbacks while the JWKS or the secret is not available (local runtime)', () => {
  it('answers 503 to a platform JWT while no JWKS could be fetched, and says so', async () => {
    world = await startWorld('7.260817.0');
    lines = [];
    // OpenCTI unreachable: the ping cannot register, no JWKS is stored.
    const config = loadConfig({ ...envOf(world), OPENCTI_URL: 'http://127.0.0.1:9' });
    runtime = await startRuntime(config, {
      log: createConsoleLog({ write: (line) => lines.push(line) }),
      settings: { reenrichIntervalMinutes: 0 },
    });
    const status = await postCallback(
      runtime.url,
      playbookMessage('7.260817.0', '64.62.197.76'),
      await world.octi.callbackCredential(),
    );
    expect(status).toBe(503);
    expect(lines.some((line) => /JWKS is unavailable/.test(line))).toBe(true);
  });

  it('answers 503 to `Bearer REPLACE_ME` while OPENCTI_TOKEN is still the placeholder', async () => {
    world = await startWorld();
    lines = [];
    const config = loadConfig({ ...envOf(world), OPENCTI_TOKEN: 'REPLACE_ME' });
    runtime = await startRuntime(config, {
      log: createConsoleLog({ write: (line) => lines.push(line) }),
      settings: { reenrichIntervalMinutes: 0 },
    });
    const status = await postCallback(runtime.url, playbookMessage('6.9.17', '64.62.197.76'), 'REPLACE_ME');
    expect(status).toBe(503);
    expect(lines.some((line) => /OPENCTI_TOKEN is not set/.test(line))).toBe(true);
  });
});

function envOf(w: World): Record<string, string> {
  const c = w.config();
  return {
    CRIMINALIP_API_KEY: c.criminalIp.apiKey,
    CRIMINALIP_API_URL: c.criminalIp.apiUrl,
    OPENCTI_URL: c.opencti.url,
    OPENCTI_TOKEN: c.opencti.token,
    CONNECTOR_ID,
    PORT: '0',
    DATA_DIR: c.dataDir,
  };
}
