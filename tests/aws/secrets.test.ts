import 'aws-sdk-client-mock-jest';
import { clearCaches } from '@aws-lambda-powertools/parameters';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { loadSecrets, PLACEHOLDER_RECHECK_SECONDS, SecretsError } from '../../lib/aws/secrets';

const sm = mockClient(SecretsManagerClient);
const SECRET_ID = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:criminalip-opencti-AbCdEf';

beforeEach(() => {
  sm.reset();
  clearCaches();
});

function secretHolds(value: unknown) {
  sm.on(GetSecretValueCommand, { SecretId: SECRET_ID }).resolves({
    SecretString: typeof value === 'string' ? value : JSON.stringify(value),
  });
}

describe('loadSecrets', () => {
  it('returns the three secrets and reads Secrets Manager once for two calls', async () => {
    secretHolds({ CRIMINALIP_API_KEY: 'cip-key-1', OPENCTI_TOKEN: 'octi-token-1', WEBHOOK_TOKEN: 'hook-1' });
    const first = await loadSecrets(SECRET_ID);
    const second = await loadSecrets(SECRET_ID);
    expect(first).toEqual({
      criminalIpApiKey: 'cip-key-1',
      openctiToken: 'octi-token-1',
      webhookToken: 'hook-1',
    });
    expect(second).toEqual(first);
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
  });

  it('leaves webhookToken out when the secret has none', async () => {
    secretHolds({ CRIMINALIP_API_KEY: 'cip-key-1', OPENCTI_TOKEN: 'octi-token-1' });
    const secrets = await loadSecrets(SECRET_ID);
    expect(secrets).toEqual({ criminalIpApiKey: 'cip-key-1', openctiToken: 'octi-token-1' });
    expect('webhookToken' in secrets).toBe(false);
  });

  it('names every missing key and no value', async () => {
    secretHolds({ WEBHOOK_TOKEN: 'hook-value-xyz', OPENCTI_TOKEN: '  ' });
    const error = await loadSecrets(SECRET_ID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretsError);
    expect((error as Error).message).toContain('CRIMINALIP_API_KEY');
    expect((error as Error).message).toContain('OPENCTI_TOKEN');
    expect((error as Error).message).not.toContain('hook-value-xyz');
  });

  it('refuses a non-string key without showing it', async () => {
    secretHolds({ CRIMINALIP_API_KEY: 12345678, OPENCTI_TOKEN: 'octi-token-1' });
    await expect(loadSecrets(SECRET_ID)).rejects.toThrow(/CRIMINALIP_API_KEY must be a string/);
    await expect(loadSecrets(SECRET_ID)).rejects.not.toThrow(/12345678/);
  });

  it('says the secret is not JSON without quoting it', async () => {
    secretHolds('plain-api-key-abcdef');
    const error = (await loadSecrets(SECRET_ID).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(SecretsError);
    expect(error.message).toMatch(/not valid JSON/);
    expect(error.message).not.toContain('plain-api-key');
    expect(error.cause).toBeUndefined();
  });

  it.each(['REPLACE_ME', 'change-me', '${OPENCTI_TOKEN}'])(
    'counts OPENCTI_TOKEN %j as missing: a placeholder is no credential',
    async (placeholder) => {
      secretHolds({ CRIMINALIP_API_KEY: 'cip-key-1', OPENCTI_TOKEN: placeholder });
      const error = (await loadSecrets(SECRET_ID).catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(SecretsError);
      expect(error.message).toMatch(/missing OPENCTI_TOKEN \(empty or still the placeholder\)/);
      expect(error.message).not.toContain('CRIMINALIP_API_KEY');
    },
  );

  it('passes a placeholder WEBHOOK_TOKEN on, for the webhook route to answer 503 to', async () => {
    secretHolds({
      CRIMINALIP_API_KEY: 'cip-key-1',
      OPENCTI_TOKEN: 'octi-token-1',
      WEBHOOK_TOKEN: 'REPLACE_ME',
    });
    expect(await loadSecrets(SECRET_ID)).toMatchObject({ webhookToken: 'REPLACE_ME' });
  });

  it('reads a secret holding a placeholder again after the recheck, not after five minutes', async () => {
    const start = Date.now();
    const now = jest.spyOn(Date, 'now').mockReturnValue(start);
    try {
      secretHolds({ CRIMINALIP_API_KEY: 'REPLACE_ME', OPENCTI_TOKEN: 'REPLACE_ME' });
      await expect(loadSecrets(SECRET_ID)).rejects.toThrow(SecretsError);
      secretHolds({ CRIMINALIP_API_KEY: 'cip-key-1', OPENCTI_TOKEN: 'octi-token-1' });
      // Within the recheck the cached placeholder still answers.
      now.mockReturnValue(start + (PLACEHOLDER_RECHECK_SECONDS - 1) * 1000);
      await expect(loadSecrets(SECRET_ID)).rejects.toThrow(SecretsError);
      now.mockReturnValue(start + (PLACEHOLDER_RECHECK_SECONDS + 1) * 1000);
      expect(await loadSecrets(SECRET_ID)).toMatchObject({ openctiToken: 'octi-token-1' });
      expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
      // Real values are kept for the full five minutes again.
      now.mockReturnValue(start + (PLACEHOLDER_RECHECK_SECONDS + 100) * 1000);
      await loadSecrets(SECRET_ID);
      expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    } finally {
      now.mockRestore();
    }
  });

  it('explains an unreadable secret', async () => {
    sm.on(GetSecretValueCommand).rejects(
      Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }),
    );
    await expect(loadSecrets(SECRET_ID)).rejects.toThrow(/Cannot read secret .*AccessDenied.*not authorized/);
  });
});
