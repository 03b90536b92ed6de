/**
 * The commands that talk to OpenCTI, run in-process through `main` against both stand-ins:
 * `enrich` (pushed in a new work), `register`, `ping`, `reenrich`, and `serve` stopped by a signal.
 */
import net from 'node:net';
import { main, type CliIo } from '../../lib/cli';
import { tlpMarking } from '../../lib/standins/opencti';
import { CRIMINAL_IP_AUTHOR } from '../../lib/stix/author';
import { observableId } from '../../lib/stix/ids';
import { expectValidBundle } from '../helpers/stix-validator';
import { CONNECTOR_ID, startWorld, waitFor, type World } from '../local/stand-ins';

let world: World;

beforeEach(async () => {
  world = await startWorld();
});

afterEach(async () => {
  await world.close();
});

interface Captured extends CliIo {
  out: string[];
  err: string[];
}

function io(env: Record<string, string>, onSignal?: CliIo['onSignal']): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    env,
    ...(onSignal ? { onSignal } : {}),
  };
}

const settings = () => ({
  CRIMINALIP_API_KEY: world.cip.apiKey,
  CRIMINALIP_API_URL: world.cip.url,
  OPENCTI_URL: world.octi.url,
  OPENCTI_TOKEN: world.octi.token,
  CONNECTOR_ID,
  DATA_DIR: world.dataDir,
  PORT: '0',
});

const operations = () => world.octi.requests.filter((r) => r.outcome === 'ok').map((r) => r.operationName);

describe('enrich (pushed to OpenCTI)', () => {
  it('creates a work, pushes a valid bundle into it and closes it', async () => {
    const run = io(settings());
    expect(await main(['enrich', '64.62.197.76'], run)).toBe(0);

    // The markings are read first (the TLP gate), then the observable's state (a CLI job carries no STIX object, and
    // what analysts wrote decides what is written), then the work lifecycle.
    expect(operations()).toEqual([
      'EntityMarkings',
      'ObservableState',
      'WorkAdd',
      'WorkToReceived',
      'StixBundlePush',
      'WorkToProcessed',
    ]);
    const [push] = world.octi.pushes();
    expectValidBundle(push!.bundle);
    expect(push!.bundle.objects.some((o) => o.id === observableId('ipv4-addr', '64.62.197.76'))).toBe(true);
    expect(world.octi.works().get(push!.workId!)).toMatchObject({ status: 'complete', inError: false });
    expect(run.out.join('')).toMatch(/64\.62\.197\.76: written to OpenCTI .*1 Criminal IP call/);
  });

  it('honours the markings the observable has in OpenCTI: TLP:RED is not sent to Criminal IP', async () => {
    world.octi.setMarkings(observableId('ipv4-addr', '179.61.228.2'), [tlpMarking('TLP:RED')]);
    const run = io(settings());
    expect(await main(['enrich', '179.61.228.2'], run)).toBe(0);
    expect(run.out.join('')).toMatch(/skipped \(above-max-tlp\)/);
    expect(world.cip.calls).toHaveLength(0);
    expect(world.octi.pushes()).toHaveLength(0);
  });

  it('exits 1 with one line when OpenCTI refuses the token, without printing it', async () => {
    const run = io({ ...settings(), OPENCTI_TOKEN: 'not-the-token-4242' });
    expect(await main(['enrich', '64.62.197.76'], run)).toBe(1);
    const errors = run.err.join('').trim().split('\n');
    expect(errors.at(-1)).toMatch(/OpenCTI/);
    expect(run.err.join('')).not.toContain('not-the-token-4242');
  });

  it('exits 2 naming OPENCTI_URL when OpenCTI is not configured', async () => {
    const { OPENCTI_URL: _, ...rest } = settings();
    const run = io(rest);
    expect(await main(['enrich', '64.62.197.76'], run)).toBe(2);
    expect(run.err.join('')).toContain('OPENCTI_URL');
    expect(world.cip.calls).toHaveLength(0);
  });
});

describe('schedule tasks run once', () => {
  it('register and ping the connector', async () => {
    const register = io(settings());
    expect(await main(['register'], register)).toBe(0);
    expect(register.out.join('')).toMatch(/registered/i);
    expect(world.octi.connectors().get(CONNECTOR_ID)).toMatchObject({
      type: 'INTERNAL_ENRICHMENT',
      registrations: 1,
      listenCallbackUri: 'http://127.0.0.1:0/opencti/callback',
    });

    const ping = io({
      ...settings(),
      CONNECTOR_CALLBACK_URL: 'https://connector.example.org/opencti/callback',
    });
    expect(await main(['ping'], ping)).toBe(0);
    expect(ping.out.join('')).toMatch(/pinged/i);
    // A changed callback URL is registered again before the ping.
    expect(world.octi.connectors().get(CONNECTOR_ID)).toMatchObject({
      listenCallbackUri: 'https://connector.example.org/opencti/callback',
      pings: 1,
    });
  });

  it('reenrich finds stale observables and enriches them now', async () => {
    const stale = [
      { value: '179.61.228.2', id: 'f0000000-0000-4000-8000-000000000001' },
      { value: '64.62.197.76', id: 'f0000000-0000-4000-8000-000000000002' },
    ];
    world.octi.setObservables(
      stale.map((o) => ({
        id: o.id,
        standard_id: observableId('ipv4-addr', o.value),
        entity_type: 'IPv4-Addr',
        observable_value: o.value,
        updated_at: '2025-01-01T00:00:00.000Z',
        markings: [tlpMarking('TLP:GREEN')],
        // Enriched by the connector before: REENRICH_SCOPE=own (the default) re-enriches them.
        createdById: CRIMINAL_IP_AUTHOR.id,
      })),
    );
    const run = io(settings());
    expect(await main(['reenrich'], run)).toBe(0);
    const output = run.out.join('');
    expect(output).toMatch(/2 stale observable\(s\) found/);
    expect(output).toMatch(/2 of 2 observable\(s\) enriched/);
    const pushed = world.octi.pushes().map((p) => p.bundle);
    expect(pushed).toHaveLength(2);
    for (const bundle of pushed) expectValidBundle(bundle);
  });
});

describe('serve', () => {
  it('answers on its routes until a signal stops it, then exits 0', async () => {
    let signal: ((name: NodeJS.Signals) => void) | undefined;
    const run = io({ ...settings(), REENRICH_INTERVAL_MINUTES: '0' }, (handler) => (signal = handler));
    const exit = main(['serve'], run);
    await waitFor('the server to start', () => signal !== undefined && /listening on/.test(run.err.join('')));
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(run.err.join(''))![1];
    expect((await fetch(`${url}/health`)).status).toBe(200);
    signal!('SIGINT');
    expect(await exit).toBe(0);
    expect(run.err.join('')).toMatch(/Stopped/);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it('exits 2 with one line when the port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const run = io({ ...settings(), PORT: String(port), REENRICH_INTERVAL_MINUTES: '0' });
      expect(await main(['serve'], run)).toBe(2);
      expect(run.err.join('')).toMatch(/PORT/);
    } finally {
      blocker.close();
    }
  });

  it('exits 2 with one line naming a bad setting', async () => {
    const run = io({ ...settings(), REENRICH_INTERVAL_MINUTES: 'often' });
    expect(await main(['serve'], run)).toBe(2);
    expect(run.err.join('')).toMatch(/REENRICH_INTERVAL_MINUTES/);
  });
});

describe('credits', () => {
  it("prints what today's and this month's windows hold, and asks the account", async () => {
    const env = { ...settings(), CRIMINALIP_DAILY_CALL_BUDGET: '10', CRIMINALIP_RESERVED_PERCENT: '20' };
    expect(await main(['enrich', '64.62.197.76'], io(env))).toBe(0);
    expect(await main(['enrich', '179.61.228.2'], io(env))).toBe(0);
    const run = io(env);
    expect(await main(['credits'], run)).toBe(0);
    const today = new Date().toISOString().slice(0, 10);
    const lines = run.out.join('').trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^Criminal IP calls counted in .*ledger\.sqlite:$/),
      `  today (${today} UTC): 2 of 10 calls spent, 2 reserved for manual and playbook requests; automatic work may spend 6 more, analysts 8 (until ${new Date(Date.parse(today) + 86_400_000).toISOString()})`,
      `  this month (${today.slice(0, 7)}): 2 calls spent, no cap`,
      expect.stringMatching(/^Criminal IP account: \d+ credits left \(asked now\)$/),
    ]);
  });

  it('needs no key: it then shows what the last ping recorded, or says it did not ask', async () => {
    const { CRIMINALIP_API_KEY: _key, ...withoutKey } = settings();
    const run = io(withoutKey);
    expect(await main(['credits'], run)).toBe(0);
    expect(run.out.join('')).toMatch(/this month \(\d{4}-\d{2}\): 0 calls spent, no cap\n/);
    expect(run.out.join('')).toMatch(
      /Criminal IP account: not asked \(set CRIMINALIP_API_KEY to ask now\)\n$/,
    );
  });
});
