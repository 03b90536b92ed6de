/**
 * Credentials are compared in constant time: both ingest routes check the presented token with
 * constantTimeEqual, which hands crypto.timingSafeEqual two SHA-256 digests, so neither the
 * position of the first difference nor the length of the secret shows in the time taken. And a
 * request without the right credential never queues anything.
 */
import crypto from 'node:crypto';
import { createIngestHandler } from '../../functions/ingest/handler';
import { constantTimeEqual } from '../../lib/core/constant-time';
import type { EnrichmentJob } from '../../lib/jobs/types';
import { silentLog } from '../../lib/core/log';
import { apiEvent, manualEnrichmentMessage } from '../functions/events';

const OPENCTI_TOKEN = 'opencti-token-3b1f9d0c';
const WEBHOOK_TOKEN = 'webhook-token-8e2a7c44';

afterEach(() => jest.restoreAllMocks());

describe('constantTimeEqual', () => {
  it('accepts the identical string only', () => {
    expect(constantTimeEqual(OPENCTI_TOKEN, OPENCTI_TOKEN)).toBe(true);
    expect(constantTimeEqual(OPENCTI_TOKEN, `${OPENCTI_TOKEN.slice(0, -1)}d`)).toBe(false);
    expect(constantTimeEqual(OPENCTI_TOKEN, OPENCTI_TOKEN.toUpperCase())).toBe(false);
    expect(constantTimeEqual(OPENCTI_TOKEN, OPENCTI_TOKEN.slice(0, -1))).toBe(false);
    expect(constantTimeEqual(OPENCTI_TOKEN, `${OPENCTI_TOKEN} `)).toBe(false);
    expect(constantTimeEqual('', OPENCTI_TOKEN)).toBe(false);
    expect(constantTimeEqual('é', 'e\u0301')).toBe(false);
  });

  it('never accepts an empty secret, not even an empty credential', () => {
    expect(constantTimeEqual('', '')).toBe(false);
    expect(constantTimeEqual('anything', '')).toBe(false);
  });

  it('compares two equal-size digests with crypto.timingSafeEqual, whatever the lengths given', () => {
    const spy = jest.spyOn(crypto, 'timingSafeEqual');
    for (const presented of ['x', OPENCTI_TOKEN, 'y'.repeat(10_000)])
      constantTimeEqual(presented, OPENCTI_TOKEN);
    expect(spy).toHaveBeenCalledTimes(3);
    for (const [a, b] of spy.mock.calls) {
      expect((a as Buffer).length).toBe(32);
      expect((b as Buffer).length).toBe(32);
    }
  });
});

describe('the ingest routes', () => {
  const queued: EnrichmentJob[] = [];
  const handler = createIngestHandler({
    connectorTokens: async () => ({ openctiToken: OPENCTI_TOKEN, webhookToken: WEBHOOK_TOKEN }),
    queue: { send: async (jobs) => void queued.push(...jobs) },
    scope: ['IPv4-Addr', 'IPv6-Addr', 'Domain-Name', 'Hostname', 'Url'],
    log: silentLog,
    metrics: { count() {} },
    clock: { now: () => new Date('2026-11-20T10:00:00Z') },
  });
  const callback = (authorization?: string) =>
    handler(
      apiEvent('POST', '/opencti/callback', {
        headers: {
          'content-type': 'application/json',
          ...(authorization ? { Authorization: authorization } : {}),
        },
        body: JSON.stringify(manualEnrichmentMessage()),
      }),
    );
  const webhook = (token?: string) =>
    handler(
      apiEvent('POST', '/webhook', {
        headers: { 'content-type': 'application/json', ...(token ? { 'X-Webhook-Token': token } : {}) },
        body: JSON.stringify({ observables: [{ value: '89.160.20.112' }] }),
      }),
    );

  beforeEach(() => {
    queued.length = 0;
  });

  it('check both credentials through timingSafeEqual', async () => {
    const spy = jest.spyOn(crypto, 'timingSafeEqual');
    expect((await callback(`Bearer ${OPENCTI_TOKEN}`)).statusCode).toBe(202);
    expect(spy).toHaveBeenCalledTimes(1);
    expect((await webhook(WEBHOOK_TOKEN)).statusCode).toBe(202);
    expect(spy).toHaveBeenCalledTimes(2);
    expect(queued).toHaveLength(2);
  });

  it('refuse wrong, near and swapped credentials with 401 after a constant-time check, queueing nothing', async () => {
    const spy = jest.spyOn(crypto, 'timingSafeEqual');
    const wrongBearers = [
      `Bearer ${OPENCTI_TOKEN.slice(0, -1)}`,
      `Bearer ${OPENCTI_TOKEN}0`,
      `Bearer ${WEBHOOK_TOKEN}`,
      `Bearer ${'x'.repeat(4096)}`,
    ];
    for (const authorization of wrongBearers) expect((await callback(authorization)).statusCode).toBe(401);
    const wrongTokens = [WEBHOOK_TOKEN.slice(1), `${WEBHOOK_TOKEN}x`, OPENCTI_TOKEN, 'a'];
    for (const token of wrongTokens) expect((await webhook(token)).statusCode).toBe(401);
    expect(spy).toHaveBeenCalledTimes(wrongBearers.length + wrongTokens.length);
    for (const [a, b] of spy.mock.calls)
      expect([(a as Buffer).length, (b as Buffer).length]).toEqual([32, 32]);

    // No credential at all, or another scheme: refused before any comparison.
    for (const authorization of [
      undefined,
      `Basic ${Buffer.from(`u:${OPENCTI_TOKEN}`).toString('base64')}`,
    ]) {
      expect((await callback(authorization)).statusCode).toBe(401);
    }
    expect((await webhook(undefined)).statusCode).toBe(401);
    expect(queued).toEqual([]);
  });

  it('keep the webhook closed when no webhook token is configured', async () => {
    const closed = createIngestHandler({
      connectorTokens: async () => ({ openctiToken: OPENCTI_TOKEN }),
      queue: { send: async (jobs) => void queued.push(...jobs) },
      scope: ['IPv4-Addr'],
      log: silentLog,
      metrics: { count() {} },
      clock: { now: () => new Date() },
    });
    for (const token of [undefined, '', OPENCTI_TOKEN]) {
      const answer = await closed(
        apiEvent('POST', '/webhook', {
          headers: {
            'content-type': 'application/json',
            ...(token !== undefined ? { 'X-Webhook-Token': token } : {}),
          },
          body: '{"observables":[{"value":"89.160.20.112"}]}',
        }),
      );
      expect(answer.statusCode).toBe(401);
    }
    expect(queued).toEqual([]);
  });
});
