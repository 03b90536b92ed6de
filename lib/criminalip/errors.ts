/**
 * The Criminal IP error taxonomy. Every failure of a call becomes one of these classes, whichever
 * channel signalled it (HTTP status or the integer `status` inside a 200 body), so callers decide
 * on `kind` and `retryable` alone. Messages say what happened and what to do; they never carry the
 * API key (see `redact`).
 */

export type CriminalIpErrorKind =
  | 'invalid-api-key'
  | 'quota-exhausted'
  /** The connector's own budget (CRIMINALIP_*_CALL_BUDGET) refused the call; it was not made. */
  | 'budget-reached'
  | 'concurrent-call'
  | 'rate-limited'
  | 'invalid-target'
  | 'scan-busy'
  | 'scan-failed'
  | 'server-error'
  | 'timeout'
  | 'network'
  | 'unexpected-response';

/** Where a response-borne error came from, for logs and metrics (never the query string). */
export interface ErrorContext {
  /** Endpoint path, e.g. `/v1/asset/ip/report`. */
  endpoint?: string;
  httpStatus?: number;
  /** The integer `status` of the body, when there was one. */
  apiStatus?: number;
  /** The body's `message`, shortened. */
  apiMessage?: string;
}

export abstract class CriminalIpError extends Error {
  abstract readonly kind: CriminalIpErrorKind;
  /** True when the same call may succeed later (after `retryAfterMs` when given). */
  abstract readonly retryable: boolean;
  readonly endpoint?: string;
  readonly httpStatus?: number;
  readonly apiStatus?: number;
  readonly apiMessage?: string;
  /**
   * HTTP calls made by the whole lookup that ended in this error, when a lookup threw it: the
   * caller still reports the calls that were spent.
   */
  calls?: number;

  constructor(
    message: string,
    context: ErrorContext = {},
    readonly retryAfterMs?: number,
  ) {
    super(context.endpoint ? `${message} (${context.endpoint})` : message);
    this.name = new.target.name;
    this.endpoint = context.endpoint;
    this.httpStatus = context.httpStatus;
    this.apiStatus = context.apiStatus;
    this.apiMessage = context.apiMessage;
  }
}

export class InvalidApiKeyError extends CriminalIpError {
  readonly kind = 'invalid-api-key';
  readonly retryable = false;
  constructor(context?: ErrorContext) {
    super(
      'Criminal IP rejected the API key ("invalid api key"): set CRIMINALIP_API_KEY to the key shown on https://www.criminalip.io/mypage/information',
      context,
    );
  }
}

export class QuotaExhaustedError extends CriminalIpError {
  readonly kind = 'quota-exhausted';
  readonly retryable = false;
  constructor(context?: ErrorContext) {
    super(
      'Criminal IP credits are used up ("limit exceeded"): wait for the plan to renew or upgrade it; calls are pointless until then',
      context,
    );
  }
}

export class ConcurrentCallError extends CriminalIpError {
  readonly kind = 'concurrent-call';
  readonly retryable = true;
  constructor(context?: ErrorContext) {
    super(
      'Criminal IP refused a concurrent call ("unable to call api at the same time"): the plan allows one call at a time; keep CRIMINALIP_CONCURRENCY at 1 and run fewer instances at once',
      context,
    );
  }
}

export class RateLimitedError extends CriminalIpError {
  readonly kind = 'rate-limited';
  readonly retryable = true;
  constructor(context?: ErrorContext, retryAfterMs?: number) {
    super(
      `Criminal IP is rate limiting (HTTP 429): retry ${
        retryAfterMs === undefined ? 'later' : `after ${Math.ceil(retryAfterMs / 1000)} s`
      }, and lower the request rate if this persists`,
      context,
      retryAfterMs,
    );
  }
}

export class InvalidTargetError extends CriminalIpError {
  readonly kind = 'invalid-target';
  readonly retryable = false;
  constructor(
    readonly reason: string,
    context?: ErrorContext,
  ) {
    super(`Criminal IP cannot look this target up (${reason}): nothing to enrich, do not retry`, context);
  }
}

export class ScanBusyError extends CriminalIpError {
  readonly kind = 'scan-busy';
  readonly retryable = true;
  constructor(context?: ErrorContext) {
    super(
      'Criminal IP is still running a previous scan for this API key ("still scanning for your previous request"): start the scan again in a few seconds',
      context,
    );
  }
}

export class ScanFailedError extends CriminalIpError {
  readonly kind = 'scan-failed';
  readonly retryable = false;
  constructor(
    readonly scanId: string,
    context?: ErrorContext,
  ) {
    super(
      `Criminal IP reported that scan ${scanId} failed (scan_percentage -1): the site could not be scanned; enrich it again later to start a new scan`,
      context,
    );
  }
}

export class ServerError extends CriminalIpError {
  readonly kind = 'server-error';
  readonly retryable = true;
  constructor(context?: ErrorContext) {
    super(
      `Criminal IP had a server error${
        context?.httpStatus && context.httpStatus >= 500 ? ` (HTTP ${context.httpStatus})` : ''
      }${context?.apiMessage ? `: "${context.apiMessage}"` : ''}; retry later`,
      context,
    );
  }
}

export class TimeoutError extends CriminalIpError {
  readonly kind = 'timeout';
  readonly retryable = true;
  constructor(timeoutMs: number, context?: ErrorContext) {
    super(
      `Criminal IP did not answer within ${timeoutMs} ms: retry later, or raise CRIMINALIP_TIMEOUT_MS if it is always slow`,
      context,
    );
  }
}

export class NetworkError extends CriminalIpError {
  readonly kind = 'network';
  readonly retryable = true;
  constructor(
    readonly code: string,
    context?: ErrorContext,
  ) {
    super(
      `The connection to Criminal IP failed (${code}): retry; if it persists check CRIMINALIP_API_URL and outbound network access`,
      context,
    );
  }
}

/** A response none of the known shapes explains (HTML from a proxy, an undocumented code). */
export class UnexpectedResponseError extends CriminalIpError {
  readonly kind = 'unexpected-response';
  readonly retryable = false;
  constructor(detail: string, context?: ErrorContext) {
    super(
      `Criminal IP answered something unexpected (${detail}): check CRIMINALIP_API_URL; report it if the URL is right`,
      context,
    );
  }
}

/** Removes every occurrence of `secret` (the API key) from text that may reach a log or an error. */
export function redact(text: string, secret: string): string {
  return secret ? text.split(secret).join('[redacted]') : text;
}
