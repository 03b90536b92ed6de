/**
 * Turns one HTTP exchange into either a body or a typed error. Criminal IP signals errors on two
 * channels: the HTTP status, and an integer `status` (with a `message`) inside bodies that are
 * often served with HTTP 200. Both are read here, messages first, because the codes that go with
 * the messages are undocumented and a message is the one stable signal.
 */
import {
  ConcurrentCallError,
  type ErrorContext,
  InvalidApiKeyError,
  InvalidTargetError,
  NetworkError,
  QuotaExhaustedError,
  RateLimitedError,
  ScanBusyError,
  ServerError,
  TimeoutError,
  UnexpectedResponseError,
  redact,
} from './errors';
import { apiStatusOf, asRecord, asString } from './parse';

export interface HttpExchange {
  endpoint: string;
  httpStatus: number;
  bodyText: string;
  /** Retry-After in ms, already parsed. */
  retryAfterMs?: number;
  /** The API key, removed from any text kept in the error. */
  secret: string;
}

const MESSAGE_LIMIT = 200;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Returns the parsed body of a successful exchange; throws the matching CriminalIpError otherwise. */
export function classifyResponse(exchange: HttpExchange): Record<string, unknown> {
  const { endpoint, httpStatus, bodyText, retryAfterMs, secret } = exchange;
  const body = parseJson(bodyText);
  const record = asRecord(body);
  const apiStatus = apiStatusOf(body);
  const rawMessage = asString(record?.message);
  const apiMessage = rawMessage ? redact(rawMessage, secret).slice(0, MESSAGE_LIMIT) : undefined;
  const context: ErrorContext = { endpoint, httpStatus, apiStatus, apiMessage };

  // For a failed non-JSON body (a proxy's error page), its text is the only hint there is.
  const hint = (rawMessage ?? (httpStatus >= 400 && !record ? bodyText.slice(0, 2000) : '')).toLowerCase();
  const has = (code: number) => httpStatus === code || apiStatus === code;

  if (hint.includes('unable to call api at the same time')) throw new ConcurrentCallError(context);
  if (hint.includes('still scanning for your previous request')) throw new ScanBusyError(context);
  if (hint.includes('invalid api key') || has(401)) throw new InvalidApiKeyError(context);
  if (hint.includes('limit exceeded') || has(403)) throw new QuotaExhaustedError(context);
  if (has(429)) throw new RateLimitedError(context, retryAfterMs);
  if (hint.includes('invalid ip address') || hint.includes('invalid url') || has(412) || has(420)) {
    throw new InvalidTargetError(apiMessage ?? `status ${apiStatus ?? httpStatus}`, context);
  }
  if (httpStatus >= 500 || (apiStatus !== undefined && apiStatus >= 500)) throw new ServerError(context);
  if (httpStatus >= 400) throw new UnexpectedResponseError(`HTTP ${httpStatus}`, context);
  if (apiStatus !== undefined && (apiStatus < 200 || apiStatus >= 300)) {
    throw new UnexpectedResponseError(`body status ${apiStatus}`, context);
  }
  if (!record) {
    throw new UnexpectedResponseError(
      body === undefined ? 'a body that is not JSON' : 'JSON that is not an object',
      context,
    );
  }
  return record;
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

/** Connection failures worth another try: resets, drops, refused or unreachable hosts, DNS hiccups. */
const NETWORK_CODES = new Set([
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_ABORTED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Maps a transport failure (undici error, socket error) to TimeoutError or NetworkError. Anything
 * else (a programming error, a refused test connection) is returned unchanged.
 */
export function classifyTransportError(error: unknown, endpoint: string, timeoutMs: number): unknown {
  const e = error as { code?: unknown; name?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const name = typeof e?.name === 'string' ? e.name : undefined;
  if ((code && TIMEOUT_CODES.has(code)) || name === 'TimeoutError' || name === 'AbortError') {
    return new TimeoutError(timeoutMs, { endpoint });
  }
  if (code && NETWORK_CODES.has(code)) return new NetworkError(code, { endpoint });
  return error;
}
