/**
 * The Criminal IP HTTP client: one method, `send`, that makes a call with the API key header,
 * waits for a concurrency slot, classifies the answer (both error channels) and retries what is
 * worth retrying with jittered exponential backoff. Endpoint wrappers (endpoints.ts) build on it.
 */
import { Agent, type Dispatcher, request } from 'undici';
import type { CriminalIpSettings } from '../config';
import { type Log, silentLog } from '../core/log';
import { classifyResponse, classifyTransportError } from './classify';
import { CriminalIpError, type CriminalIpErrorKind } from './errors';
import { type Limiter, type Release, sharedLimiter } from './limiter';
import { type BackoffPolicy, DEFAULT_BACKOFF, backoffDelay, parseRetryAfter } from './retry';

export type ClientSettings = Pick<
  CriminalIpSettings,
  'apiKey' | 'apiUrl' | 'concurrency' | 'timeoutMs' | 'maxRetries'
>;

/** One HTTP call as it happened, for call counts and metrics (no query string, no key). */
export interface CallRecord {
  method: 'GET' | 'POST';
  endpoint: string;
  /** 0 for the first try, 1 for the first retry... */
  attempt: number;
  outcome: 'ok' | CriminalIpErrorKind | 'error';
  httpStatus?: number;
  durationMs: number;
}

export type CallObserver = (call: CallRecord) => void;

export interface ClientOptions {
  /** undici dispatcher; defaults to a module-scope keep-alive Agent (see sharedAgent). */
  dispatcher?: Dispatcher;
  /** In-process limit; defaults to the limiter shared by every client of the same URL and key. */
  limiter?: Limiter;
  /** Optional cross-process lease taken after the local slot, for every HTTP call. */
  acquire?: () => Promise<Release>;
  /** Sees every HTTP call made through this client. */
  onCall?: CallObserver;
  backoff?: Partial<BackoffPolicy>;
  /** Time left in the current invocation; no retry is started that could not finish in it. */
  remainingMs?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  log?: Log;
}

export type QueryValue = string | number | boolean | undefined;

export interface CallSpec {
  method: 'GET' | 'POST';
  /** Path after the base URL, e.g. `/v1/asset/ip/report`. */
  path: string;
  query?: Record<string, QueryValue>;
  /** Sent form-encoded (POST). */
  form?: Record<string, string>;
}

export interface CallOptions {
  /** Sees the HTTP calls made for this one request (retries included). */
  onCall?: CallObserver;
  /**
   * Runs before each HTTP attempt of this request, once its slot is held; throwing stops the
   * attempt unmade (the call budget counts each call here, lib/pipeline/budget.ts).
   */
  beforeCall?: () => Promise<void>;
}

/** Keep idle sockets well below common server idle timeouts (60 s and more) to dodge stale sockets. */
const KEEP_ALIVE_MS = 10_000;

const agents = new Map<number, Agent>();

/**
 * The module-scope Agent for a timeout: created once per process (per Lambda execution
 * environment), so connections are reused across invocations.
 */
export function sharedAgent(timeoutMs: number): Agent {
  let agent = agents.get(timeoutMs);
  if (!agent) {
    agent = new Agent({
      keepAliveTimeout: KEEP_ALIVE_MS,
      keepAliveMaxTimeout: 3 * KEEP_ALIVE_MS,
      connect: { timeout: timeoutMs },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    agents.set(timeoutMs, agent);
  }
  return agent;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class CriminalIpClient {
  private readonly baseUrl: string;
  private readonly dispatcher: Dispatcher;
  private readonly limiter: Limiter;
  private readonly backoff: BackoffPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly log: Log;
  private count = 0;

  constructor(
    private readonly settings: ClientSettings,
    private readonly options: ClientOptions = {},
  ) {
    this.baseUrl = settings.apiUrl.replace(/\/+$/, '');
    this.dispatcher = options.dispatcher ?? sharedAgent(settings.timeoutMs);
    this.limiter =
      options.limiter ?? sharedLimiter(this.baseUrl, settings.apiKey, Math.max(1, settings.concurrency));
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? silentLog;
  }

  /** HTTP calls made by this client so far (every attempt counts). */
  get calls(): number {
    return this.count;
  }

  /**
   * Makes the call, retrying retryable failures up to `maxRetries` times, and returns the parsed
   * body. Throws a CriminalIpError subclass (the last one when retries run out).
   */
  async send<T extends object = Record<string, unknown>>(
    spec: CallSpec,
    callOptions: CallOptions = {},
  ): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return (await this.attempt(spec, attempt, callOptions)) as T;
      } catch (error) {
        if (!(error instanceof CriminalIpError) || !error.retryable || attempt >= this.settings.maxRetries) {
          throw error;
        }
        const delayMs = backoffDelay(attempt, this.backoff, this.random, error.retryAfterMs);
        if (delayMs > this.backoff.maxWaitMs) throw error;
        const remaining = this.options.remainingMs?.();
        if (remaining !== undefined && remaining < delayMs + this.settings.timeoutMs) throw error;
        this.log.debug('Criminal IP call failed, retrying', {
          endpoint: spec.path,
          kind: error.kind,
          attempt,
          delayMs,
        });
        await this.sleep(delayMs);
      }
    }
  }

  private async attempt(spec: CallSpec, attempt: number, callOptions: CallOptions) {
    const releaseSlot = await this.limiter.acquire();
    let releaseLease: Release | undefined;
    try {
      releaseLease = await this.options.acquire?.();
      await callOptions.beforeCall?.();
      return await this.exchange(spec, attempt, callOptions);
    } finally {
      try {
        await releaseLease?.();
      } catch (error) {
        this.log.warn('Releasing the Criminal IP call lease failed', { error: String(error) });
      }
      await releaseSlot();
    }
  }

  private async exchange(spec: CallSpec, attempt: number, callOptions: CallOptions) {
    const started = this.now();
    let httpStatus: number | undefined;
    const record = (outcome: CallRecord['outcome']) => {
      this.count += 1;
      const call: CallRecord = {
        method: spec.method,
        endpoint: spec.path,
        attempt,
        outcome,
        httpStatus,
        durationMs: this.now() - started,
      };
      this.options.onCall?.(call);
      callOptions.onCall?.(call);
    };

    try {
      const response = await request(this.urlOf(spec), {
        method: spec.method,
        headers: this.headersOf(spec),
        body: spec.method === 'POST' ? new URLSearchParams(spec.form ?? {}).toString() : undefined,
        dispatcher: this.dispatcher,
        headersTimeout: this.settings.timeoutMs,
        bodyTimeout: this.settings.timeoutMs,
      });
      httpStatus = response.statusCode;
      const bodyText = await response.body.text();
      const body = classifyResponse({
        endpoint: spec.path,
        httpStatus: response.statusCode,
        bodyText,
        retryAfterMs: parseRetryAfter(response.headers['retry-after'], this.now()),
        secret: this.settings.apiKey,
      });
      record('ok');
      return body;
    } catch (error) {
      const classified = classifyTransportError(error, spec.path, this.settings.timeoutMs);
      record(classified instanceof CriminalIpError ? classified.kind : 'error');
      throw classified;
    }
  }

  private urlOf(spec: CallSpec): string {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined) query.set(name, String(value));
    }
    const search = query.toString();
    return `${this.baseUrl}${spec.path}${search ? `?${search}` : ''}`;
  }

  private headersOf(spec: CallSpec): Record<string, string> {
    const headers: Record<string, string> = {
      'x-api-key': this.settings.apiKey,
      accept: 'application/json',
      'user-agent': 'criminalip-opencti',
    };
    if (spec.method === 'POST') headers['content-type'] = 'application/x-www-form-urlencoded';
    return headers;
  }
}
