/**
 * A demo-sized workload on the local runtime (`npm start`'s code) with known, distinctive secret
 * values, faults on both services and the schedule tasks, while every log line is captured (the
 * Log port before any masking, and every byte written to stdout and stderr) and every socket the
 * process opens is recorded. Then:
 * - no log line holds the Criminal IP key, the OpenCTI token or the webhook token;
 * - every GraphQL request carries its values as variables: no argument is a literal, and no
 *   variable's value appears in a document;
 * - the product never fetches an observable's URL: a server the URLs point at receives nothing,
 *   and the process connects to the two stand-ins and its own routes only.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Kind, parse, visit } from 'graphql';
import { loadConfig } from '../../lib/config';
import { createConsoleLog } from '../../lib/local/console-log';
import { listenMessage, stixEntityOf } from '../../lib/local/demo-messages';
import { startRuntime, type Runtime } from '../../lib/local/runtime';
import { CriminalIpApi, CriminalIpClient } from '../../lib/criminalip';
import { noMetrics } from '../../lib/core/metrics';
import { systemClock } from '../../lib/core/clock';
import { type Log } from '../../lib/core/log';
import { checkQuota } from '../../lib/pipeline/quota';
import {
  DEMO_OBSERVABLES,
  startCriminalIpStandIn,
  type CriminalIpStandIn,
} from '../../lib/standins/criminalip';
import { startOpenCtiStandIn, type OpenCtiStandIn } from '../../lib/standins/opencti';
import { rawRequest } from './support';

const SECRETS = {
  criminalIpKey: 'cipkey-7F3A9E21-do-not-log-0c5d',
  openctiToken: 'octitoken-B8C4D2E6-do-not-log-91aa',
  webhookToken: 'webhooktoken-51E0F9AA-do-not-log-77b3',
};
const CONNECTOR_ID = '9c1f6e2d-4b3a-4d5e-8f70-1a2b3c4d5e6f';

let cip: CriminalIpStandIn;
let octi: OpenCtiStandIn;
let runtime: Runtime | undefined;
let dataDir: string;
let trap: http.Server;
let trapHits = 0;
const lines: string[] = [];
const portLines: string[] = [];
const connections: Array<{ host: string; port: number }> = [];
const originalConnect = net.Socket.prototype.connect;
const originalStdout = process.stdout.write.bind(process.stdout);
const originalStderr = process.stderr.write.bind(process.stderr);

/** Keeps what is written to a standard stream (the runtime's log lines go to stderr) instead of printing it. */
function capture(): typeof process.stdout.write {
  return (chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  };
}

function restoreStreams(): void {
  process.stdout.write = originalStdout;
  process.stderr.write = originalStderr;
}

/** The Log port as the runtime calls it: every message and attribute, before any masking. */
function teeLog(target: Log): Log {
  const at =
    (level: keyof Log) =>
    (message: string, extra?: Record<string, unknown>): void => {
      portLines.push(
        `${message} ${JSON.stringify(extra ?? {}, (_key, value: unknown) => (value instanceof Error ? `${value.name}: ${value.message}` : value))}`,
      );
      target[level](message, extra);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function waitUntil(
  what: string,
  condition: () => boolean,
  state: () => unknown,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(state())}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  trap = http.createServer((_req, res) => {
    trapHits += 1;
    res.end('you should not be here');
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  net.Socket.prototype.connect = function recordingConnect(this: net.Socket, ...args: unknown[]) {
    // net.connect() passes its normalised arguments as one array: [options, callback].
    const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
    if (typeof first === 'object' && first !== null && 'port' in first) {
      const { host, port } = first as { host?: string; port?: number };
      connections.push({ host: host ?? 'localhost', port: Number(port) });
    } else if (typeof first === 'number') {
      connections.push({ host: String((args[1] as string | undefined) ?? 'localhost'), port: first });
    } else {
      connections.push({ host: String(first), port: Number.NaN });
    }
    return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  };
  process.stdout.write = capture();
  process.stderr.write = capture();
});

afterAll(async () => {
  restoreStreams();
  net.Socket.prototype.connect = originalConnect;
  await runtime?.stop({ graceMs: 0 });
  await Promise.all([cip?.close(), octi?.close()]);
  await new Promise<void>((resolve) => trap.close(() => resolve()));
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it('runs a demo-sized workload without a secret in any log line, GraphQL literal or stray fetch', async () => {
  const trapPort = (trap.address() as AddressInfo).port;
  cip = await startCriminalIpStandIn({
    apiKey: SECRETS.criminalIpKey,
    scanProgress: [40, 100],
    // Errors on the way: each is retried by the client, and each could carry a secret into a log.
    faults: { next: ['server-error', 'body-error', 'rate-limit'], retryAfterSeconds: 1 },
  });
  octi = await startOpenCtiStandIn({
    token: SECRETS.openctiToken,
    // At most three faults in all: the client's retries (three) always get through.
    faults: {
      http5xx: 0.2,
      graphqlError: 0.2,
      limit: 3,
      operations: ['WorkToReceived', 'StixBundlePush', 'WorkToProcessed'],
    },
    observables: [
      {
        standard_id: 'ipv4-addr--4f6a7f5c-6e52-5a0d-a9e6-6f3b8d0e0c11',
        entity_type: 'IPv4-Addr',
        observable_value: '185.220.101.4',
        updated_at: '2020-01-01T00:00:00.000Z',
      },
    ],
  });
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'cip-octi-secrets-'));
  const config = loadConfig({
    CRIMINALIP_API_KEY: SECRETS.criminalIpKey,
    CRIMINALIP_API_URL: cip.url,
    OPENCTI_URL: octi.url,
    OPENCTI_TOKEN: SECRETS.openctiToken,
    WEBHOOK_TOKEN: SECRETS.webhookToken,
    CONNECTOR_ID,
    PORT: '0',
    DATA_DIR: dataDir,
    CRIMINALIP_SCAN_POLL_SECONDS: '1',
    LOG_LEVEL: 'DEBUG',
  });
  runtime = await startRuntime(config, {
    log: teeLog(createConsoleLog({ level: 'DEBUG', format: 'text' })),
    settings: { reenrichIntervalMinutes: 0 },
    idlePollMs: 50,
  });
  const url = runtime.url;

  // What an analyst clicks (the demo's observables), plus URLs pointing at the trap.
  const trapUrls = [`http://127.0.0.1:${trapPort}/login.php?next=/admin`, `http://localhost:${trapPort}/`];
  const works: string[] = [];
  const listen = [
    ...DEMO_OBSERVABLES.map((o) => ({ type: o.type, value: o.value, tlp: o.tlp ?? ('TLP:GREEN' as const) })),
    ...trapUrls.map((value) => ({ type: 'url' as const, value, tlp: 'TLP:CLEAR' as const })),
  ];
  for (const observable of listen) {
    const workId = octi.createWork(CONNECTOR_ID, `Enrichment (${observable.value})`);
    works.push(workId);
    const answer = await rawRequest(`${url}/opencti/callback`, {
      headers: { authorization: `Bearer ${SECRETS.openctiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(listenMessage({ workId, ...observable })),
    });
    expect(answer.status).toBe(202);
  }
  const webhook = await rawRequest(`${url}/webhook`, {
    headers: { 'x-webhook-token': SECRETS.webhookToken, 'content-type': 'application/json' },
    body: JSON.stringify({
      notification: { name: 'Watched hosts' },
      objects: [
        stixEntityOf({ type: 'ipv4-addr', value: '45.33.32.156' }),
        stixEntityOf({ type: 'url', value: `http://127.0.0.1:${trapPort}/payload.exe` }),
        stixEntityOf({ type: 'domain-name', value: 'google.com' }),
      ],
    }),
  });
  expect(webhook.status).toBe(202);
  // Callers with credentials that are nearly right, or right for the other route.
  for (const [route, headers] of [
    ['/opencti/callback', { authorization: `Bearer ${SECRETS.openctiToken}x` }],
    ['/opencti/callback', { authorization: `Bearer ${SECRETS.webhookToken}` }],
    ['/webhook', { 'x-webhook-token': SECRETS.webhookToken.slice(0, -1) }],
    ['/webhook', { 'x-webhook-token': SECRETS.openctiToken }],
  ] as const) {
    const answer = await rawRequest(`${url}${route}`, {
      headers: { ...headers, 'content-type': 'application/json' },
      body: '{"observables":[{"value":"8.8.4.4"}]}',
    });
    expect(answer.status).toBe(401);
  }
  await runtime.runTask('reenrich');
  try {
    await waitUntil(
      'every work to be processed',
      () => works.every((id) => octi.works().get(id)?.status === 'complete'),
      () => works.map((id) => octi.works().get(id)).filter((w) => w?.status !== 'complete'),
    );
    await waitUntil(
      'the queue to empty',
      () => {
        const s = runtime!.queue.stats();
        return s.visible + s.inFlight + s.delayed === 0;
      },
      () => runtime!.queue.stats(),
    );
    // The credits check the schedule runs: the account endpoint echoes the API key.
    const log = teeLog(createConsoleLog({ level: 'DEBUG' }));
    const api = new CriminalIpApi(new CriminalIpClient(config.criminalIp, { log }));
    await runtime.ledger.setQuotaPause(Date.now() + 60_000);
    expect(
      await checkQuota({
        account: () => api.account(),
        ledger: runtime.ledger,
        clock: systemClock,
        log,
        metrics: noMetrics,
      }),
    ).toMatchObject({ state: 'resumed' });
    await runtime.stop({ graceMs: 2_000 });
    runtime = undefined;
  } finally {
    restoreStreams();
  }

  // 1. No secret in any log line, rendered or not.
  const everything = [...lines, ...portLines];
  expect(lines.some((line) => line.includes('written to OpenCTI'))).toBe(true);
  expect(cip.calls.some((c) => c.endpoint === 'user-me')).toBe(true);
  const leaks = everything.filter((line) => Object.values(SECRETS).some((secret) => line.includes(secret)));
  expect(leaks).toEqual([]);

  // 2. GraphQL values only as variables.
  let argumentsSeen = 0;
  const literals: string[] = [];
  for (const request of octi.requests) {
    visit(parse(request.query), {
      Argument(node) {
        argumentsSeen += 1;
        if (node.value.kind !== Kind.VARIABLE) literals.push(`${request.operationName}: ${node.name.value}`);
      },
    });
    // A value that could be a name (an enum like updated_at) may match a field; data cannot.
    for (const value of Object.values(request.variables)) {
      if (
        typeof value === 'string' &&
        !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value) &&
        request.query.includes(value)
      ) {
        literals.push(`${request.operationName}: a variable's value is in the document`);
      }
    }
  }
  expect(literals).toEqual([]);

  // 3. Nobody fetched an observable's URL: only the stand-ins and our own routes were reached.
  const allowed = new Set([cip.url, octi.url, url].map((u) => Number(new URL(u).port)));
  const elsewhere = connections.filter((c) => !allowed.has(c.port));
  expect(trapHits).toBe(0);
  expect(elsewhere).toEqual([]);
  const trapCalls = cip.calls.filter((c) => JSON.stringify([c.query, c.form]).includes(String(trapPort)));
  expect(trapCalls).toEqual([]);

  console.log(
    `Secrets and GraphQL: ${listen.length + 3} jobs, ${octi.pushes().length} bundles pushed, ${cip.stats().calls} Criminal IP calls, ` +
      `${everything.length} log lines checked (${portLines.length} through the Log port), 0 holding a secret; ` +
      `${octi.requests.length} GraphQL requests, ${argumentsSeen} arguments, all variables; ` +
      `${connections.length} connections opened, all to the stand-ins or the local routes; trap server hits ${trapHits}`,
  );
  expect(portLines.length).toBeGreaterThan(30);
  expect(connections.length).toBeGreaterThan(0);
  expect(octi.requests.length).toBeGreaterThan(20);
});
