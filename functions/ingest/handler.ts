/**
 * The ingest function: authenticates OpenCTI's requests, turns them into EnrichmentJobs
 * (lib/jobs) and queues them. No enrichment happens here; the answer is immediate.
 *
 *   POST /opencti/callback  OpenCTI worker (listen protocol), Authorization: Bearer <JWT signed by
 *                           the platform> (7.x) or <token of the connector user> (6.9.x), see
 *                           lib/opencti/callback-auth.ts. 202 once queued, 401 for bad
 *                           credentials, 503 while the platform JWKS cannot be had. A message
 *                           that can never be processed is logged, counted and still answered
 *                           202: the worker re-POSTs on any other status, forever.
 *   POST /webhook           OpenCTI Generic webhook notifier, X-Webhook-Token. 202 once queued;
 *                           401, 413, 415, or 400 with {error, detail} for a body it cannot use.
 *   GET  /health            200 {status: "ok"}.
 * A queue failure answers 503: the sender retries and nothing is lost. So does a secret that is
 * missing or still holds a placeholder (REPLACE_ME): that is no credential to compare with.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { errorSummary, type Log } from '../../lib/core/log';
import { constantTimeEqual } from '../../lib/core/constant-time';
import { isPlaceholderSecret } from '../../lib/config/placeholders';
import { METRIC, type MetricsSink } from '../../lib/core/metrics';
import type { ObservableEntityType } from '../../lib/config';
import { MAX_BODY_BYTES } from '../../lib/jobs/limits';
import { parseListenMessage } from '../../lib/jobs/parse-listen';
import { parseWebhookPayload, WebhookError, type ParsedWebhook } from '../../lib/jobs/parse-webhook';
import type { EnrichmentJob } from '../../lib/jobs/types';
import { createCallbackAuthenticator, type CallbackAuthenticator } from '../../lib/opencti/callback-auth';
import type { Clock } from '../../lib/core/clock';
import type { JobQueue } from '../../lib/pipeline/ports';
import { bearerToken, bodyBytes, header, isJsonContentType, json, routeOf } from './http';

export interface IngestDeps {
  /** The credentials callers must present (Secrets Manager in AWS, the environment locally). */
  connectorTokens: () => Promise<{ openctiToken: string; webhookToken?: string }>;
  queue: JobQueue;
  /** CONNECTOR_SCOPE: entity types handled. */
  scope: readonly ObservableEntityType[];
  log: Log;
  metrics: MetricsSink;
  clock: Clock;
  /**
   * Checks the callback's bearer: the platform JWT against the stored JWKS, or the static token.
   * Without it only the static token (6.9.x) is accepted and a JWT answers 503 (no JWKS).
   */
  callbackAuth?: CallbackAuthenticator;
}

/** Used when no JWKS source is wired: every JWT finds no JWKS (503), the static token still works. */
const NO_JWKS = { current: () => Promise.resolve(undefined), refresh: () => Promise.resolve(undefined) };

export type IngestHandler = (
  event: APIGatewayProxyEvent,
  context?: Context,
) => Promise<APIGatewayProxyResult>;

const ROUTES: Record<string, string> = {
  '/opencti/callback': 'POST',
  '/webhook': 'POST',
  '/health': 'GET',
};

export function createIngestHandler(deps: IngestDeps): IngestHandler {
  const { log, metrics } = deps;
  const callbackAuth = deps.callbackAuth ?? createCallbackAuthenticator({ jwks: NO_JWKS, clock: deps.clock });

  /** 401 without saying which part was wrong; counted per route. */
  function unauthorized(route: string, why: string, scheme: string): APIGatewayProxyResult {
    log.warn('Request refused: bad credentials', { route, why });
    metrics.count(METRIC.authFailures, 1, { Route: route });
    return json(
      401,
      { error: 'unauthorized', detail: 'missing or invalid credentials' },
      { 'www-authenticate': scheme },
    );
  }

  async function tokens(route: string) {
    try {
      return await deps.connectorTokens();
    } catch (error) {
      log.error('Cannot read the connector credentials', { route, ...errorSummary(error) });
      return undefined;
    }
  }

  /** Queues jobs; undefined when the queue failed (already logged). */
  async function enqueue(route: string, jobs: EnrichmentJob[]): Promise<number | undefined> {
    try {
      await deps.queue.send(jobs);
    } catch (error) {
      log.error('Queueing failed; the sender will retry', {
        route,
        jobs: jobs.length,
        ...errorSummary(error),
      });
      return undefined;
    }
    metrics.count(METRIC.jobsQueued, jobs.length, { Source: route });
    for (const job of jobs) {
      log.info('Job queued', {
        route,
        jobId: job.jobId,
        observableType: job.observable.type,
        origin: job.origin.kind,
      });
    }
    return jobs.length;
  }

  const unavailable = (detail = 'the request could not be queued; retry later') =>
    json(503, { error: 'unavailable', detail }, { 'retry-after': '30' });

  /** A secret still at its placeholder (or empty) is missing: 503 until the operator sets it. */
  function secretNotSet(route: string, key: string): APIGatewayProxyResult {
    log.error(
      `The secret ${key} is not set (empty or still the placeholder): ${route} answers 503 until the real value is stored`,
      { route, secretKey: key },
    );
    return unavailable(`the connector's ${key} is not configured yet; retry later`);
  }

  /** A callback that can never be processed: logged and counted, answered 202 so the worker lets go. */
  function rejectCallback(reason: string, detail: string): APIGatewayProxyResult {
    log.warn('OpenCTI callback rejected', { route: '/opencti/callback', reason, detail });
    metrics.count(METRIC.requestsRejected, 1, { Route: '/opencti/callback', Reason: reason });
    return json(202, { queued: 0, rejected: { reason, detail } });
  }

  async function callback(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    const route = '/opencti/callback';
    const expected = await tokens(route);
    if (!expected) return unavailable();
    if (isPlaceholderSecret(expected.openctiToken)) return secretNotSet(route, 'OPENCTI_TOKEN');
    const presented = bearerToken(header(event, 'authorization'));
    if (presented === undefined) return unauthorized(route, 'no bearer token', 'Bearer');
    const auth = await callbackAuth.authenticate(presented, expected.openctiToken);
    if (auth.outcome === 'unavailable') {
      log.error(
        'OpenCTI callback not checked: the platform JWKS is unavailable; answering 503 so the worker retries',
        {
          route,
          why: auth.why,
        },
      );
      return unavailable('the platform signing keys are not available yet; retry later');
    }
    if (auth.outcome === 'refused') return unauthorized(route, auth.why, 'Bearer');
    if (auth.credential === 'jwt') {
      log.debug('OpenCTI callback authenticated with a platform JWT', {
        route,
        kid: auth.kid,
        iat: auth.iat,
      });
    }

    const body = bodyBytes(event);
    if (body.byteLength > MAX_BODY_BYTES.callback) {
      return rejectCallback(
        'too-large',
        `the body has ${body.byteLength} bytes, more than ${MAX_BODY_BYTES.callback}`,
      );
    }
    const parsed = parseListenMessage(body, { scope: deps.scope, now: deps.clock.now() });
    if (parsed.kind === 'rejected')
      return rejectCallback(parsed.rejection.reason, parsed.rejection.detail ?? '');
    if (parsed.kind === 'answer-only') {
      // Still queued: the pipeline closes the work or answers the playbook step with the reason.
      log.info('OpenCTI callback holds nothing to enrich; queued to be answered', {
        route,
        jobId: parsed.job.jobId,
        reason: parsed.rejection.reason,
        detail: parsed.rejection.detail,
      });
      metrics.count(METRIC.requestsRejected, 1, { Route: route, Reason: parsed.rejection.reason });
    }
    const queued = await enqueue(route, [parsed.job]);
    return queued === undefined ? unavailable() : json(202, { queued });
  }

  async function webhook(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    const route = '/webhook';
    const expected = await tokens(route);
    if (!expected) return unavailable();
    const presented = header(event, 'x-webhook-token');
    if (expected.webhookToken !== undefined && isPlaceholderSecret(expected.webhookToken)) {
      return secretNotSet(route, 'WEBHOOK_TOKEN');
    }
    if (isPlaceholderSecret(expected.openctiToken)) return secretNotSet(route, 'OPENCTI_TOKEN');
    if (!expected.webhookToken) {
      // No secret configured: the route is closed rather than open to anyone.
      return unauthorized(route, 'no webhook token is configured (WEBHOOK_TOKEN)', 'X-Webhook-Token');
    }
    if (presented === undefined || !constantTimeEqual(presented, expected.webhookToken)) {
      return unauthorized(
        route,
        presented === undefined ? 'no X-Webhook-Token header' : 'wrong webhook token',
        'X-Webhook-Token',
      );
    }

    const body = bodyBytes(event);
    if (body.byteLength > MAX_BODY_BYTES.webhook) {
      return badRequest(
        413,
        'too-large',
        `the body has ${body.byteLength} bytes; at most ${MAX_BODY_BYTES.webhook} are accepted`,
      );
    }
    if (!isJsonContentType(header(event, 'content-type'))) {
      return badRequest(415, 'unsupported-media-type', 'send the payload as application/json');
    }
    let parsed: ParsedWebhook;
    try {
      parsed = parseWebhookPayload(body, { scope: deps.scope, now: deps.clock.now() });
    } catch (error) {
      if (error instanceof WebhookError) return badRequest(400, error.code, error.detail);
      throw error;
    }
    const queued = await enqueue(route, parsed.jobs);
    if (queued === undefined) return unavailable();
    return json(202, parsed.ignored.length > 0 ? { queued, ignored: parsed.ignored } : { queued });
  }

  function badRequest(status: number, error: string, detail: string): APIGatewayProxyResult {
    log.warn('Webhook request refused', { route: '/webhook', status, error, detail });
    metrics.count(METRIC.requestsRejected, 1, { Route: '/webhook', Reason: error });
    return json(status, { error, detail });
  }

  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const route = routeOf(event);
    const method = (event.httpMethod ?? '').toUpperCase();
    const allowed = ROUTES[route];
    if (!allowed) return json(404, { error: 'not-found', detail: `no route ${route}` });
    if (method !== allowed && !(allowed === 'GET' && method === 'HEAD')) {
      return json(
        405,
        { error: 'method-not-allowed', detail: `${route} accepts ${allowed} only` },
        { allow: allowed },
      );
    }
    try {
      switch (route) {
        case '/health':
          return json(200, { status: 'ok' });
        case '/opencti/callback':
          return await callback(event);
        default:
          return await webhook(event);
      }
    } catch (error) {
      // A defect, not a bad request: 500 makes the sender retry, so nothing is lost once fixed.
      log.error('Ingest failed unexpectedly', { route, ...errorSummary(error) });
      return json(500, { error: 'internal-error', detail: 'the request could not be handled; retry later' });
    }
  };
}
