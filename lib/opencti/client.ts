/**
 * The OpenCTI GraphQL client: one operation per HTTP request (OpenCTI refuses aliased batches),
 * `Authorization: Bearer <token>`, answers and failures turned into typed errors, and bounded,
 * jittered retries of the failures that can pass.
 *
 * The token never appears in a log line or an error message: messages are built from the
 * operation name, the status and the server's error text, and that text is scrubbed of the token
 * in case a proxy echoes the request back.
 */
import { Agent, request, type Dispatcher } from 'undici';
import type { OpenCtiSettings } from '../config';
import { silentLog, type Log } from '../core/log';
import type { GraphQlDocument } from './documents';
import {
  NetworkError,
  OpenCtiError,
  ServerError,
  TimeoutError,
  errorForGraphQlCode,
  errorForHttpStatus,
  type OpenCtiErrorDetails,
} from './errors';

export interface OpenCtiClient {
  /** Sends one document with its variables; resolves to `data`, or throws an OpenCtiError. */
  execute<TData, TVariables>(
    document: GraphQlDocument<TData, TVariables>,
    variables: TVariables,
  ): Promise<TData>;
  /** The same client, sending `opencti-draft-id` so that writes land in that draft workspace. */
  withDraft(draftId: string | undefined): OpenCtiClient;
}

export interface OpenCtiClientOptions {
  /** Defaults to a keep-alive Agent shared by every client of the process (see sharedAgent). */
  dispatcher?: Dispatcher;
  /** Retries after the first attempt, for retryable failures only. */
  maxRetries?: number;
  /** First backoff ceiling; it doubles per retry up to maxDelayMs, and the delay is drawn below it. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Uniform [0, 1): the jitter source, injectable for tests. */
  random?: () => number;
  log?: Log;
  userAgent?: string;
  /** Sent as `opencti-draft-id`: writes land in that draft workspace (listen message `draft_id`). */
  draftId?: string;
}

export type OpenCtiClientSettings = Pick<OpenCtiSettings, 'url' | 'token' | 'timeoutMs'>;

let sharedAgent: Agent | undefined;

/**
 * One Agent per process so that sockets are reused across Lambda invocations. Its keep-alive is
 * shorter than Node's default server idle timeout (5 s, OpenCTI runs on Node), so that a frozen
 * sandbox does not wake up to a socket the server has already closed.
 */
function defaultDispatcher(): Dispatcher {
  sharedAgent ??= new Agent({
    keepAliveTimeout: 4_000,
    keepAliveMaxTimeout: 30_000,
    connect: { timeout: 10_000 },
  });
  return sharedAgent;
}

const MAX_MESSAGE_CHARS = 300;

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Socket codes raised before any byte of the request left: resending cannot duplicate it. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

interface GraphQlErrorEntry {
  message?: unknown;
  extensions?: { code?: unknown };
}

interface GraphQlResponse {
  data?: unknown;
  errors?: GraphQlErrorEntry[];
}

export function createOpenCtiClient(
  settings: OpenCtiClientSettings,
  options: OpenCtiClientOptions = {},
): OpenCtiClient {
  const endpoint = `${settings.url.replace(/\/+$/, '')}/graphql`;
  const dispatcher = options.dispatcher ?? defaultDispatcher();
  const maxRetries = options.maxRetries ?? 3;
  const baseDelayMs = options.baseDelayMs ?? 250;
  const maxDelayMs = options.maxDelayMs ?? 4_000;
  const sleep = options.sleep ?? sleepFor;
  const random = options.random ?? Math.random;
  const log = options.log ?? silentLog;
  const token = settings.token;

  const scrub = (text: string): string => {
    const cut = text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)}...` : text;
    return token ? cut.split(token).join('[token]') : cut;
  };

  async function attempt(operation: string, body: string): Promise<unknown> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json',
      'user-agent': options.userAgent ?? 'criminalip-opencti',
    };
    if (options.draftId) headers['opencti-draft-id'] = options.draftId;

    let response: Dispatcher.ResponseData;
    let text: string;
    try {
      response = await request(endpoint, {
        method: 'POST',
        headers,
        body,
        dispatcher,
        headersTimeout: settings.timeoutMs,
        bodyTimeout: settings.timeoutMs,
      });
      text = await response.body.text();
    } catch (error) {
      throw transportError(error, operation);
    }
    return parseAnswer(operation, response.statusCode, text);
  }

  function transportError(error: unknown, operation: string): OpenCtiError {
    const code = error && typeof error === 'object' ? (error as { code?: unknown }).code : undefined;
    const codeText = typeof code === 'string' ? code : undefined;
    const details: OpenCtiErrorDetails = { operation, code: codeText };
    const reason = scrub(error instanceof Error ? error.message : String(error));
    if (
      (codeText && TIMEOUT_CODES.has(codeText)) ||
      (error instanceof Error && error.name === 'AbortError')
    ) {
      return new TimeoutError(
        `OpenCTI ${operation}: no answer within ${settings.timeoutMs} ms (${codeText ?? 'timeout'}). The request may still have been processed; raise OPENCTI_TIMEOUT_MS if OpenCTI is slow.`,
        details,
      );
    }
    if (codeText === 'UND_ERR_CONNECT_TIMEOUT') {
      return new NetworkError(
        `OpenCTI ${operation}: could not connect in time (${codeText}). Check OPENCTI_URL and the network path.`,
        details,
        true,
      );
    }
    const neverSent = codeText !== undefined && NOT_SENT_CODES.has(codeText);
    return new NetworkError(
      `OpenCTI ${operation}: ${neverSent ? 'could not connect' : 'the connection failed'} (${codeText ?? 'network error'}: ${reason}). Check OPENCTI_URL and that OpenCTI is up.`,
      details,
      neverSent,
    );
  }

  function parseAnswer(operation: string, status: number, text: string): unknown {
    let parsed: GraphQlResponse | undefined;
    try {
      const value: unknown = JSON.parse(text);
      if (value && typeof value === 'object') parsed = value;
    } catch {
      parsed = undefined;
    }
    const errors = parsed && Array.isArray(parsed.errors) ? parsed.errors : [];
    const first = errors[0];
    if (first) {
      const code = typeof first.extensions?.code === 'string' ? first.extensions.code : undefined;
      const message = scrub(typeof first.message === 'string' ? first.message : 'unnamed error');
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
      throw errorForGraphQlCode(code, `${message}${more}`, { operation, status, code });
    }
    if (status < 200 || status >= 300) throw errorForHttpStatus(status, { operation, status });
    if (!parsed || !('data' in parsed) || parsed.data === null || typeof parsed.data !== 'object') {
      throw new ServerError(
        `OpenCTI ${operation}: HTTP ${status} without GraphQL data. Check OPENCTI_URL: it must be the platform's base URL, not a login page or proxy.`,
        { operation, status },
        false,
      );
    }
    return parsed.data;
  }

  /** Whether a failed attempt may be sent again without risking a duplicate effect. */
  function mayResend(error: OpenCtiError, idempotent: boolean): boolean {
    if (!error.retryable) return false;
    if (idempotent) return true;
    return error instanceof NetworkError && error.neverReachedServer;
  }

  return {
    async execute<TData, TVariables>(document: GraphQlDocument<TData, TVariables>, variables: TVariables) {
      const operation = document.operationName;
      const body = JSON.stringify({ query: document.query, variables, operationName: operation });
      for (let retry = 0; ; retry += 1) {
        try {
          return (await attempt(operation, body)) as TData;
        } catch (error) {
          if (!(error instanceof OpenCtiError)) throw error;
          if (retry >= maxRetries || !mayResend(error, document.idempotent)) throw error;
          const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** retry);
          const delay = Math.floor(random() * ceiling);
          log.warn('OpenCTI request failed, retrying', {
            operation,
            kind: error.kind,
            code: error.code,
            status: error.status,
            retry: retry + 1,
            delayMs: delay,
          });
          await sleep(delay);
        }
      }
    },
    withDraft(id: string | undefined) {
      return createOpenCtiClient(settings, { ...options, draftId: id });
    },
  };
}
