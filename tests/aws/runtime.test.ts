import { clearCaches } from '@aws-lambda-powertools/parameters';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { configWithSecrets, intEnv, rebuildOnRotation, requiredEnv, secretIdOf } from '../../lib/aws/runtime';
import { ConfigError } from '../../lib/config';

const sm = mockClient(SecretsManagerClient);
const SECRET = 'criminalip-opencti';

function secretHolds(apiKey: string) {
  sm.reset();
  sm.on(GetSecretValueCommand).resolves({
    SecretString: JSON.stringify({ CRIMINALIP_API_KEY: apiKey, OPENCTI_TOKEN: 'octi-1' }),
  });
}

beforeEach(() => clearCaches());

describe('rebuildOnRotation', () => {
  it('builds once while the secrets stay the same, and again after a rotation', async () => {
    secretHolds('key-1');
    const build = jest.fn(async (s: { criminalIpApiKey: string }) => `built with ${s.criminalIpApiKey}`);
    const current = rebuildOnRotation(SECRET, build);
    expect(await current()).toBe('built with key-1');
    expect(await current()).toBe('built with key-1');
    expect(build).toHaveBeenCalledTimes(1);

    secretHolds('key-2');
    clearCaches(); // the five-minute cache has run out
    expect(await current()).toBe('built with key-2');
    expect(build).toHaveBeenCalledTimes(2);
  });

  it('does not keep a failed build', async () => {
    secretHolds('key-1');
    let fail = true;
    const current = rebuildOnRotation(SECRET, async () => {
      if (fail) throw new Error('OpenCTI URL missing');
      return 'ok';
    });
    await expect(current()).rejects.toThrow('OpenCTI URL missing');
    fail = false;
    await expect(current()).resolves.toBe('ok');
  });
});

describe('environment', () => {
  it('names a missing stack variable', () => {
    expect(() => requiredEnv({}, 'QUEUE_URL', 'the URL of the jobs queue')).toThrow(ConfigError);
    expect(() => requiredEnv({ QUEUE_URL: ' ' }, 'QUEUE_URL', 'x')).toThrow(/QUEUE_URL is required/);
    expect(requiredEnv({ QUEUE_URL: 'https://q' }, 'QUEUE_URL', 'x')).toBe('https://q');
  });

  it('takes the secret from SECRET_ARN first, then SECRET_ID, then SECRET_NAME', () => {
    expect(secretIdOf({ SECRET_ARN: 'arn', SECRET_ID: 'id', SECRET_NAME: 'name' })).toBe('arn');
    expect(secretIdOf({ SECRET_ID: 'id', SECRET_NAME: 'name' })).toBe('id');
    expect(secretIdOf({ SECRET_NAME: 'name' })).toBe('name');
    expect(() => secretIdOf({})).toThrow(/SECRET_ARN/);
  });

  it('reads bounded integers', () => {
    expect(intEnv({}, 'ENRICH_CONCURRENCY', 4, 1, 10)).toBe(4);
    expect(intEnv({ ENRICH_CONCURRENCY: '2' }, 'ENRICH_CONCURRENCY', 4, 1, 10)).toBe(2);
    expect(() => intEnv({ ENRICH_CONCURRENCY: '0' }, 'ENRICH_CONCURRENCY', 4, 1, 10)).toThrow(/from 1 to 10/);
    expect(() => intEnv({ ENRICH_CONCURRENCY: 'many' }, 'ENRICH_CONCURRENCY', 4, 1, 10)).toThrow(ConfigError);
  });

  it('puts the secrets in place of the secret variables of the configuration', () => {
    const config = configWithSecrets(
      {
        OPENCTI_URL: 'https://octi.example.com',
        CONNECTOR_ID: '2a1b7f0e-3c4d-4e5f-8a9b-0c1d2e3f4a5b',
        OPENCTI_TOKEN: 'stale',
      },
      { criminalIpApiKey: 'cip-key', openctiToken: 'octi-token', webhookToken: 'hook' },
    );
    expect(config.criminalIp.apiKey).toBe('cip-key');
    expect(config.opencti.token).toBe('octi-token');
    expect(config.webhookToken).toBe('hook');
  });
});
