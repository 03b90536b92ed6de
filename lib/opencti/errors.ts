/**
 * What can go wrong talking to OpenCTI, as typed errors. Each says what happened and what to do,
 * and whether trying again later can help (`retryable`): the pipeline uses that to choose between
 * redelivering a job and giving up on it.
 *
 * OpenCTI answers most failures with HTTP 200 and a GraphQL `errors` entry whose
 * `extensions.code` names the class (AUTH_REQUIRED, FORBIDDEN_ACCESS, FUNCTIONAL_ERROR, ...);
 * Apollo answers malformed documents and variables with HTTP 400 (GRAPHQL_VALIDATION_FAILED,
 * BAD_USER_INPUT); proxies in front of it answer with bare HTTP statuses.
 */

export type OpenCtiErrorKind =
  'authentication' | 'forbidden' | 'validation' | 'not-found' | 'server' | 'timeout' | 'network';

export interface OpenCtiErrorDetails {
  /** The GraphQL operation that failed. */
  operation: string;
  /** HTTP status, when an answer arrived. */
  status?: number;
  /** GraphQL `extensions.code` or the socket error code. */
  code?: string;
}

export abstract class OpenCtiError extends Error {
  abstract readonly kind: OpenCtiErrorKind;
  abstract readonly retryable: boolean;
  readonly operation: string;
  readonly status: number | undefined;
  readonly code: string | undefined;

  constructor(message: string, details: OpenCtiErrorDetails) {
    super(message);
    this.operation = details.operation;
    this.status = details.status;
    this.code = details.code;
  }
}

/** The token was refused: nothing works until OPENCTI_TOKEN is fixed. */
export class AuthenticationError extends OpenCtiError {
  readonly kind = 'authentication';
  readonly retryable = false;
  override readonly name: string = 'AuthenticationError';
}

/** The token's user lacks a capability (give it the "Connector" role: CONNECTORAPI and friends). */
export class ForbiddenError extends OpenCtiError {
  readonly kind = 'forbidden';
  readonly retryable = false;
  override readonly name: string = 'ForbiddenError';
}

/** OpenCTI refused the request itself (document, variables or business rule): resending cannot help. */
export class ValidationError extends OpenCtiError {
  readonly kind = 'validation';
  readonly retryable = false;
  override readonly name: string = 'ValidationError';
}

/** What the request names does not exist (or the URL is not an OpenCTI GraphQL endpoint). */
export class NotFoundError extends OpenCtiError {
  readonly kind = 'not-found';
  readonly retryable = false;
  override readonly name: string = 'NotFoundError';
}

/** OpenCTI or a proxy failed (5xx, 429, database or lock errors): usually passes, try later. */
export class ServerError extends OpenCtiError {
  readonly kind = 'server';
  override readonly name: string = 'ServerError';
  readonly retryable: boolean;

  constructor(message: string, details: OpenCtiErrorDetails, retryable = true) {
    super(message, details);
    this.retryable = retryable;
  }
}

/** No answer within OPENCTI_TIMEOUT_MS. The request may still have been processed. */
export class TimeoutError extends OpenCtiError {
  readonly kind = 'timeout';
  readonly retryable = true;
  override readonly name: string = 'TimeoutError';
}

/** The connection failed or broke. `neverReachedServer` tells whether the request surely was not sent. */
export class NetworkError extends OpenCtiError {
  readonly kind = 'network';
  readonly retryable = true;
  override readonly name: string = 'NetworkError';
  readonly neverReachedServer: boolean;

  constructor(message: string, details: OpenCtiErrorDetails, neverReachedServer: boolean) {
    super(message, details);
    this.neverReachedServer = neverReachedServer;
  }
}

/** 7.x: an unlicensed LTS platform refuses every call (authDirective.ts, LTS_REQUIRED_ACTIVATION). */
export class LtsActivationRequiredError extends AuthenticationError {
  override readonly name: string = 'LtsActivationRequiredError';
}

/** 7.x: the token's user lacks the APIACCESS_USETOKEN capability. */
export class TokenCapabilityError extends ForbiddenError {
  override readonly name: string = 'TokenCapabilityError';
}

/** 7.x: the API token has reached its expiry date. */
export class TokenExpiredError extends AuthenticationError {
  override readonly name: string = 'TokenExpiredError';
}

/** The 7.x refusals, each with what the operator has to do; checked before the generic codes. */
function platform7Error(
  code: string,
  message: string,
  details: OpenCtiErrorDetails,
): OpenCtiError | undefined {
  const at = `OpenCTI ${details.operation}`;
  if (code === 'LTS_REQUIRED_ACTIVATION' || /activate your LTS licen[cs]e/i.test(message)) {
    return new LtsActivationRequiredError(
      `${at}: the platform is an LTS release whose licence is not activated (LTS_REQUIRED_ACTIVATION: ${message}). Activate the LTS licence in OpenCTI (Settings), then retry.`,
      { ...details, code: code || 'LTS_REQUIRED_ACTIVATION' },
    );
  }
  if (/not allowed to use API Access Tokens/i.test(message)) {
    return new TokenCapabilityError(
      `${at}: the connector user may not use API tokens (${message}). Give its role the APIACCESS_USETOKEN capability (the default "Connector" role has it).`,
      details,
    );
  }
  if (/token expired/i.test(message)) {
    return new TokenExpiredError(
      `${at}: OPENCTI_TOKEN has expired (${message}). Create a new API token for the connector user in OpenCTI and store it as OPENCTI_TOKEN.`,
      details,
    );
  }
  return undefined;
}

const AUTHENTICATION_CODES = new Set([
  'AUTH_REQUIRED',
  'AUTH_FAILURE',
  'OTP_REQUIRED',
  'OTP_REQUIRED_ACTIVATION',
  'UNAUTHENTICATED',
]);
const FORBIDDEN_CODES = new Set(['FORBIDDEN_ACCESS', 'FORBIDDEN']);
const VALIDATION_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'FUNCTIONAL_ERROR',
  'VALIDATION_ERROR',
  'UNSUPPORTED_ERROR',
  'ALREADY_DELETED_ERROR',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);
const NOT_FOUND_CODES = new Set(['RESOURCE_NOT_FOUND', 'MISSING_REFERENCE_ERROR']);
/** Server-side failures that a later attempt will not fix (the platform is misconfigured). */
const PERMANENT_SERVER_CODES = new Set(['CONFIGURATION_ERROR']);

/** Builds the typed error for a GraphQL error code (`message` is already safe to show). */
export function errorForGraphQlCode(
  code: string | undefined,
  message: string,
  details: OpenCtiErrorDetails,
): OpenCtiError {
  const at = `OpenCTI ${details.operation}`;
  const c = code ?? '';
  const seven = platform7Error(c, message, details);
  if (seven) return seven;
  if (AUTHENTICATION_CODES.has(c)) {
    return new AuthenticationError(
      `${at}: the token was refused (${c}: ${message}). Check OPENCTI_TOKEN: it must be the API token of the connector's user (on OpenCTI 7.x also that it has not expired and that the user's role has APIACCESS_USETOKEN).`,
      details,
    );
  }
  if (FORBIDDEN_CODES.has(c)) {
    return new ForbiddenError(
      `${at}: not allowed (${c}: ${message}). Give the connector's user the "Connector" role (CONNECTORAPI capability).`,
      details,
    );
  }
  if (VALIDATION_CODES.has(c)) {
    return new ValidationError(
      `${at}: the request was refused (${c}: ${message}). Resending it will not help.`,
      details,
    );
  }
  if (NOT_FOUND_CODES.has(c)) {
    return new NotFoundError(`${at}: not found (${c}: ${message}).`, details);
  }
  return new ServerError(
    `${at}: OpenCTI failed (${c || 'no error code'}: ${message}). Try again later; check the platform's logs if it persists.`,
    details,
    !PERMANENT_SERVER_CODES.has(c),
  );
}

/** Builds the typed error for an HTTP status that carried no GraphQL error. */
export function errorForHttpStatus(status: number, details: OpenCtiErrorDetails): OpenCtiError {
  const at = `OpenCTI ${details.operation}`;
  if (status === 401) {
    return new AuthenticationError(
      `${at}: HTTP 401, the token was refused. Check OPENCTI_TOKEN: it must be the API token of the connector's user.`,
      details,
    );
  }
  if (status === 403) {
    return new ForbiddenError(
      `${at}: HTTP 403, not allowed. Check the connector user's role, or a proxy in front of OpenCTI.`,
      details,
    );
  }
  if (status === 404) {
    return new NotFoundError(
      `${at}: HTTP 404 for /graphql. Check OPENCTI_URL: it must be the platform's base URL.`,
      details,
    );
  }
  if (status === 413) {
    return new ValidationError(
      `${at}: HTTP 413, the request is larger than OpenCTI accepts (app:max_payload_body_size, 50mb by default).`,
      details,
    );
  }
  if (status === 429 || status >= 500) {
    return new ServerError(`${at}: HTTP ${status} from OpenCTI or its proxy. Try again later.`, details);
  }
  return new ValidationError(`${at}: HTTP ${status}, the request was refused.`, details);
}
