/**
 * The callback credential check against the platform's own vectors
 * (tests/fixtures/reference/opencti/jwt-vectors.json: the platform's key derivation and signing
 * re-created with a test seed), on a clock fixed at the vectors' `now`.
 */
import vectors from '../fixtures/reference/opencti/jwt-vectors.json';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import {
  cachedJwks,
  createCallbackAuthenticator,
  looksLikeJwt,
  type JwksSource,
} from '../../lib/opencti/callback-auth';
import { ManualClock } from '../helpers/manual-clock';

const NOW_MS = vectors.now * 1000;
const STATIC = vectors.tokens.staticToken;
const t = vectors.tokens;

function fixedJwks(...args: [string?]): JwksSource & { reads: number } {
  const value = args.length > 0 ? args[0] : vectors.jwks;
  const source = {
    reads: 0,
    current: async () => {
      source.reads += 1;
      return value;
    },
    refresh: async () => {
      source.reads += 1;
      return value;
    },
  };
  return source;
}

function authenticator(jwks: JwksSource = fixedJwks(), clock = new ManualClock(NOW_MS)) {
  return createCallbackAuthenticator({ jwks, clock });
}

describe('callback authentication: the jwt-vectors', () => {
  it('accepts the valid platform JWT and reports its kid and iat', async () => {
    await expect(authenticator().authenticate(t.valid, STATIC)).resolves.toEqual({
      outcome: 'accepted',
      credential: 'jwt',
      kid: '907350a97f0bd467',
      iat: vectors.now,
    });
  });

  it('accepts the configured static token (6.9.x), without needing any JWKS', async () => {
    const jwks = fixedJwks(undefined);
    await expect(authenticator(jwks).authenticate(STATIC, STATIC)).resolves.toEqual({
      outcome: 'accepted',
      credential: 'token',
    });
    expect(jwks.reads).toBe(0);
  });

  it.each([
    ['expired', t.expired, /expired/],
    ['wrongIssuer', t.wrongIssuer, /claim iss/],
    ['wrongSubject', t.wrongSubject, /claim sub/],
    ['tampered', t.tampered, /signature/],
    ['unknownKid', t.unknownKid, /key the platform JWKS does not hold/],
    ['foreignKeySameKid', t.foreignKeySameKid, /signature/],
    ['noneAlg', t.noneAlg, /./],
  ])('refuses %s', async (_name, token, why) => {
    const result = await authenticator().authenticate(token, STATIC);
    expect(result.outcome).toBe('refused');
    expect(result.outcome === 'refused' && result.why).toMatch(why);
    // Nothing of the token in what is reported (it goes to the log).
    expect(JSON.stringify(result)).not.toContain(token.slice(0, 30));
  });

  it('refuses the static token when it is not the configured one, and anything else', async () => {
    for (const presented of [STATIC, 'flgrn_octi_tkn_abc', 'eyJ.not.ajwt']) {
      const result = await authenticator().authenticate(presented, 'another-configured-token');
      expect(result.outcome).toBe('refused');
    }
  });

  it('accepts a JWT within the clock tolerance after exp, and refuses it beyond', async () => {
    const clock = new ManualClock(NOW_MS + 3600_000 + 30_000);
    await expect(authenticator(fixedJwks(), clock).authenticate(t.valid, STATIC)).resolves.toMatchObject({
      outcome: 'accepted',
    });
    clock.advance(60);
    await expect(authenticator(fixedJwks(), clock).authenticate(t.valid, STATIC)).resolves.toMatchObject({
      outcome: 'refused',
    });
  });

  it('refuses another algorithm even with a key of that kid (HS256 keyed with the public x)', async () => {
    const key = JSON.parse(vectors.jwks).keys[0] as { kid: string; x: string };
    const forged = await new SignJWT({ iss: 'opencti', sub: 'connector' })
      .setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'JWT' })
      .setIssuedAt(vectors.now)
      .setExpirationTime(vectors.now + 3600)
      .sign(new TextEncoder().encode(key.x));
    const result = await authenticator().authenticate(forged, STATIC);
    expect(result.outcome).toBe('refused');
  });
});

describe('callback authentication: the JWKS', () => {
  it('is unavailable (not refused) when no JWKS is stored yet', async () => {
    const result = await authenticator(fixedJwks(undefined)).authenticate(t.valid, STATIC);
    expect(result.outcome).toBe('unavailable');
  });

  it('is unavailable when the JWKS cannot be read', async () => {
    const failing: JwksSource = {
      current: () => Promise.reject(new Error('ledger unreachable')),
      refresh: () => Promise.reject(new Error('ledger unreachable')),
    };
    const result = await authenticator(failing).authenticate(t.valid, STATIC);
    expect(result).toMatchObject({
      outcome: 'unavailable',
      why: expect.stringMatching(/ledger unreachable/),
    });
  });

  it('re-reads the stored JWKS once on an unknown kid, and takes the new key', async () => {
    const clock = new ManualClock(NOW_MS);
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'rotatedkey000001', alg: 'EdDSA', use: 'sig' };
    const rotated = JSON.stringify({ keys: [jwk] });
    let stored = vectors.jwks;
    let reads = 0;
    const source = cachedJwks({
      read: async () => {
        reads += 1;
        return stored;
      },
      clock,
    });
    const auth = authenticator(source, clock);
    await expect(auth.authenticate(t.valid, STATIC)).resolves.toMatchObject({ outcome: 'accepted' });
    expect(reads).toBe(1);
    // Cached: a second request does not read the ledger.
    await auth.authenticate(t.valid, STATIC);
    expect(reads).toBe(1);

    stored = rotated;
    const token = await new SignJWT({ iss: 'opencti', sub: 'connector' })
      .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid, typ: 'JWT' })
      .setIssuedAt(vectors.now)
      .setExpirationTime(vectors.now + 3600)
      .sign(privateKey);
    await expect(auth.authenticate(token, STATIC)).resolves.toMatchObject({
      outcome: 'accepted',
      kid: 'rotatedkey000001',
    });
    expect(reads).toBe(2);

    // Unknown kids again right after: no further read within the refresh interval.
    await expect(auth.authenticate(t.unknownKid, STATIC)).resolves.toMatchObject({ outcome: 'refused' });
    await expect(auth.authenticate(t.unknownKid, STATIC)).resolves.toMatchObject({ outcome: 'refused' });
    expect(reads).toBe(2);
    clock.advance(31);
    await auth.authenticate(t.unknownKid, STATIC);
    expect(reads).toBe(3);
  });

  it('re-reads a missing JWKS at once (a first registration is seen without waiting)', async () => {
    const clock = new ManualClock(NOW_MS);
    const store: { jwks?: string } = {};
    const source = cachedJwks({ read: async () => store.jwks, clock });
    await expect(authenticator(source, clock).authenticate(t.valid, STATIC)).resolves.toMatchObject({
      outcome: 'unavailable',
    });
    store.jwks = vectors.jwks;
    await expect(authenticator(source, clock).authenticate(t.valid, STATIC)).resolves.toMatchObject({
      outcome: 'accepted',
    });
  });

  it('tells a JWT from a static token by shape', () => {
    expect(looksLikeJwt(t.valid)).toBe(true);
    expect(looksLikeJwt(t.noneAlg)).toBe(true);
    expect(looksLikeJwt(STATIC)).toBe(false);
    expect(looksLikeJwt('flgrn_octi_tkn_' + 'a'.repeat(64))).toBe(false);
  });
});
