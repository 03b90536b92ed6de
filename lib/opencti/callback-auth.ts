/**
 * Who may POST to /opencti/callback. Two platform lines send two kinds of credential:
 *
 *   OpenCTI 6.9.x  the connector user's API token: compared with OPENCTI_TOKEN in constant time;
 *   OpenCTI 7.x    a short-lived JWT the platform signs for its worker (EdDSA / Ed25519,
 *                  iss "opencti", sub "connector", exp = iat + 1 h, header kid), verified with
 *                  the JWKS the platform publishes as `Connector.jwks` (docs/opencti-7.md §1).
 *
 * The JWKS is read from the ledger (the schedule writes it at registration and ping), through a
 * short in-memory cache. When it cannot be had at all the answer is "unavailable" (503), never
 * "refused" (401): the worker retries a 503, and a 401 would only hide an outage. A token never
 * leaves this module: results carry the key id and issue time at most.
 */
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet } from 'jose';
import { constantTimeEqual } from '../core/constant-time';
import type { Clock } from '../core/clock';

/** What the platform puts in the connector JWT. */
export const CONNECTOR_JWT = { issuer: 'opencti', subject: 'connector', algorithm: 'EdDSA' } as const;
/** Clock difference tolerated between the platform and this function, on exp, iat and nbf. */
export const JWT_CLOCK_TOLERANCE_SECONDS = 60;
/** The platform issues one-hour tokens; anything older than this was not minted for us. */
export const JWT_MAX_AGE_SECONDS = 65 * 60;

export type CallbackAuthResult =
  | { outcome: 'accepted'; credential: 'jwt'; kid: string | undefined; iat: number | undefined }
  | { outcome: 'accepted'; credential: 'token' }
  | { outcome: 'refused'; why: string }
  /** The JWKS could not be had: the request may be fine, ask the sender to retry. */
  | { outcome: 'unavailable'; why: string };

/** Where the platform's JWKS (the `Connector.jwks` JSON string) is read. */
export interface JwksSource {
  /** The JWKS, from the cache when fresh; undefined when none is stored. Throws when unreadable. */
  current(): Promise<string | undefined>;
  /**
   * Reads it again bypassing the cache (an unknown key id), at most once per refresh interval:
   * within it, resolves to the cached value.
   */
  refresh(): Promise<string | undefined>;
}

/** A JWT in compact form: three base64url parts, the header a JSON object (so "ey..."). */
export function looksLikeJwt(token: string): boolean {
  return /^ey[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token);
}

function parseJwks(text: string): JSONWebKeySet {
  const value = JSON.parse(text) as unknown;
  if (!value || typeof value !== 'object' || !Array.isArray((value as { keys?: unknown }).keys)) {
    throw new Error('the stored JWKS is not a {"keys": [...]} object');
  }
  return value as JSONWebKeySet;
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

export interface CallbackAuthenticatorOptions {
  jwks: JwksSource;
  clock: Clock;
}

export interface CallbackAuthenticator {
  /** Checks the bearer credential `presented` against the platform JWKS or `openctiToken`. */
  authenticate(presented: string, openctiToken: string): Promise<CallbackAuthResult>;
}

export function createCallbackAuthenticator(options: CallbackAuthenticatorOptions): CallbackAuthenticator {
  const { clock } = options;

  async function verify(token: string, jwksText: string): Promise<CallbackAuthResult> {
    let keys: JSONWebKeySet;
    try {
      keys = parseJwks(jwksText);
    } catch (error) {
      return { outcome: 'unavailable', why: `the platform JWKS is unreadable (${errorMessage(error)})` };
    }
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(keys), {
      issuer: CONNECTOR_JWT.issuer,
      subject: CONNECTOR_JWT.subject,
      // Only the platform's algorithm: never "none", never an HMAC keyed with a public key.
      algorithms: [CONNECTOR_JWT.algorithm],
      clockTolerance: JWT_CLOCK_TOLERANCE_SECONDS,
      maxTokenAge: JWT_MAX_AGE_SECONDS,
      requiredClaims: ['exp', 'iat'],
      currentDate: clock.now(),
    });
    return { outcome: 'accepted', credential: 'jwt', kid: protectedHeader.kid, iat: payload.iat };
  }

  async function authenticateJwt(token: string): Promise<CallbackAuthResult> {
    let jwksText: string | undefined;
    try {
      jwksText = await options.jwks.current();
    } catch (error) {
      return { outcome: 'unavailable', why: `the platform JWKS cannot be read (${errorMessage(error)})` };
    }
    if (jwksText === undefined) {
      return {
        outcome: 'unavailable',
        why: 'no platform JWKS is stored yet: the connector has not registered with an OpenCTI 7.x platform (run `criminalip-opencti register`, or wait for the next ping)',
      };
    }
    try {
      return await verify(token, jwksText);
    } catch (error) {
      if (!(error instanceof joseErrors.JWKSNoMatchingKey)) return refusal(error);
    }
    // An unknown key id: the platform key may have changed (APP__ENCRYPTION_KEY). Read once more.
    let again: string | undefined;
    try {
      again = await options.jwks.refresh();
    } catch (error) {
      return { outcome: 'unavailable', why: `the platform JWKS cannot be read (${errorMessage(error)})` };
    }
    if (again === undefined) {
      return { outcome: 'unavailable', why: 'no platform JWKS is stored any more' };
    }
    try {
      return await verify(token, again);
    } catch (error) {
      return refusal(error);
    }
  }

  return {
    async authenticate(presented, openctiToken) {
      // 6.9.x sends the connector user's token. Compared first: it needs no JWKS, so a 6.9
      // platform works even before (or without) any registration.
      if (constantTimeEqual(presented, openctiToken)) return { outcome: 'accepted', credential: 'token' };
      if (!looksLikeJwt(presented)) return { outcome: 'refused', why: 'wrong bearer token' };
      return authenticateJwt(presented);
    },
  };
}

/** Why a JWT was refused, in words a log reader can act on (the token itself is never included). */
function refusal(error: unknown): CallbackAuthResult {
  if (error instanceof joseErrors.JWTExpired) return { outcome: 'refused', why: 'the JWT has expired' };
  if (error instanceof joseErrors.JWKSNoMatchingKey) {
    return { outcome: 'refused', why: 'the JWT is signed with a key the platform JWKS does not hold' };
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return { outcome: 'refused', why: 'the JWT signature does not verify' };
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) {
    return { outcome: 'refused', why: 'the JWT uses an algorithm other than EdDSA' };
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return { outcome: 'refused', why: `the JWT claim ${error.claim} is wrong (${error.reason})` };
  }
  if (error instanceof joseErrors.JOSEError) {
    return { outcome: 'refused', why: `the JWT is not valid (${error.code})` };
  }
  return { outcome: 'refused', why: 'the JWT could not be checked' };
}

/** Per-process cache of the stored JWKS (one per warm Lambda, one per local runtime). */
export interface CachedJwksOptions {
  /** Reads the stored JWKS (the ledger). */
  read: () => Promise<string | undefined>;
  clock: Clock;
  /** How long a read value is reused (default 60 s). */
  ttlMs?: number;
  /** Least time between two forced re-reads on an unknown key id (default 30 s). */
  minRefreshIntervalMs?: number;
}

export const JWKS_CACHE_TTL_MS = 60_000;
export const JWKS_MIN_REFRESH_INTERVAL_MS = 30_000;

export function cachedJwks(options: CachedJwksOptions): JwksSource {
  const ttl = options.ttlMs ?? JWKS_CACHE_TTL_MS;
  const interval = options.minRefreshIntervalMs ?? JWKS_MIN_REFRESH_INTERVAL_MS;
  let value: string | undefined;
  let readAt: number | undefined;
  let refreshedAt: number | undefined;
  let inFlight: Promise<string | undefined> | undefined;
  const now = () => options.clock.now().getTime();

  function load(): Promise<string | undefined> {
    inFlight ??= options
      .read()
      .then((read) => {
        value = read;
        // A missing JWKS is not cached: the first registration should be seen at once.
        readAt = read === undefined ? undefined : now();
        return read;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  return {
    async current() {
      if (readAt !== undefined && now() - readAt < ttl) return value;
      return load();
    },
    async refresh() {
      if (refreshedAt !== undefined && now() - refreshedAt < interval) return value;
      refreshedAt = now();
      return load();
    },
  };
}
