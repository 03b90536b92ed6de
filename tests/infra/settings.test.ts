import { loadConfig } from '../../lib/config';
import {
  parseSchedule,
  resolveStackSettings,
  StackConfigError,
  usesPlaceholders,
  type SettingKey,
  type StackSettingsInput,
} from '../../infra/settings';

const required = {
  openctiUrl: 'https://opencti.acme.test/',
  connectorId: '0B0F6A7E-0C1F-4A57-9D41-6F1D2F3B9A10',
};

const resolve = (input: StackSettingsInput) => resolveStackSettings((key: SettingKey) => input[key]);

function errorOf(input: StackSettingsInput): StackConfigError {
  try {
    resolve(input);
  } catch (e) {
    if (e instanceof StackConfigError) return e;
    throw e;
  }
  throw new Error('expected a StackConfigError');
}

describe('resolveStackSettings', () => {
  it('fills every other setting with its documented default', () => {
    const s = resolve(required);
    expect(s).toMatchObject({
      openctiUrl: 'https://opencti.acme.test',
      connectorId: '0b0f6a7e-0c1f-4a57-9d41-6f1d2f3b9a10',
      connectorName: 'Criminal IP',
      scope: ['IPv4-Addr', 'IPv6-Addr', 'Domain-Name', 'Hostname', 'Url'],
      maxTlp: 'TLP:AMBER',
      auto: false,
      pingRate: { kind: 'rate', minutes: 2 },
      reenrichRate: { kind: 'rate', minutes: 360 },
      reenrichBudget: 100,
      staleDays: 30,
      indicatorThreshold: 'dangerous',
      phishingThreshold: 70,
      maxReceiveCount: 5,
      maxConcurrency: 2,
      reservedConcurrency: 2,
      alarmEmail: undefined,
      metricsNamespace: 'CriminalIpOpenCti',
      logRetentionDays: 30,
      logLevel: 'INFO',
      tracing: false,
      settings: {},
    });
  });

  it('accepts the strings `cdk -c key=value` passes as well as JSON values from cdk.json', () => {
    const fromCli = resolve({
      ...required,
      auto: 'true',
      maxConcurrency: '5',
      reservedConcurrency: '8',
      maxReceiveCount: '3',
      scope: 'ipv4-addr, Url',
      maxTlp: 'tlp:green',
      tracing: 'false',
      settings: '{"CACHE_TTL_HOURS":"12"}',
    });
    const fromJson = resolve({
      ...required,
      auto: true,
      maxConcurrency: 5,
      reservedConcurrency: 8,
      maxReceiveCount: 3,
      scope: ['IPv4-Addr', 'Url'],
      maxTlp: 'TLP:GREEN',
      tracing: false,
      settings: { CACHE_TTL_HOURS: 12 },
    });
    expect(fromCli).toEqual(fromJson);
    expect(fromCli).toMatchObject({
      auto: true,
      maxConcurrency: 5,
      reservedConcurrency: 8,
      maxReceiveCount: 3,
      scope: ['IPv4-Addr', 'Url'],
      maxTlp: 'TLP:GREEN',
      settings: { CACHE_TTL_HOURS: '12' },
    });
  });

  it('reserves as much concurrency as the queue may drive unless told otherwise', () => {
    expect(resolve({ ...required, maxConcurrency: 7 }).reservedConcurrency).toBe(7);
    expect(resolve({ ...required, reservedConcurrency: 'none' }).reservedConcurrency).toBe('none');
  });

  it('turns the re-enrichment schedule off with "off"', () => {
    expect(resolve({ ...required, reenrichRate: 'off' }).reenrichRate).toBe('off');
  });

  it.each([
    [{ openctiUrl: undefined }, 'openctiUrl', /is required/],
    [{ connectorId: '' }, 'connectorId', /is required/],
    [{ connectorId: 'my-connector' }, 'connectorId', /must be a UUID \(got "my-connector"\)/],
    [{ openctiUrl: 'opencti.acme.test' }, 'openctiUrl', /http\(s\) URL/],
    [{ maxTlp: 'TLP:PURPLE' }, 'maxTlp', /TLP:CLEAR/],
    [{ scope: 'IPv4-Addr,Email-Addr' }, 'scope', /comma-separated list/],
    [{ auto: 'maybe' }, 'auto', /true or false/],
    [{ indicatorThreshold: 'scary' }, 'indicatorThreshold', /safe, low, moderate, dangerous, critical/],
    [{ phishingThreshold: 150 }, 'phishingThreshold', /0 to 100/],
    [{ staleDays: 0 }, 'staleDays', /days from 1/],
    [{ reenrichBudget: -1 }, 'reenrichBudget', /integer from 0/],
    [{ maxReceiveCount: 0 }, 'maxReceiveCount', /from 1 to 100/],
    [{ maxConcurrency: 1 }, 'maxConcurrency', /from 2 to 1000/],
    [{ maxConcurrency: 'two' }, 'maxConcurrency', /from 2 to 1000 \(got "two"\)/],
    [{ maxConcurrency: 4, reservedConcurrency: 3 }, 'reservedConcurrency', /at least maxConcurrency \(4\)/],
    [{ pingRate: 'every two minutes' }, 'pingRate', /rate such as "2 minutes"/],
    [{ pingRate: '0 minutes' }, 'pingRate', /from 1 minute/],
    [{ reenrichRate: 'hourly' }, 'reenrichRate', /rate such as/],
    [{ alarmEmail: 'ops-at-acme' }, 'alarmEmail', /e-mail address/],
    [{ metricsNamespace: 'AWS/Lambda' }, 'metricsNamespace', /not starting with AWS\//],
    [{ logRetentionDays: 10 }, 'logRetentionDays', /must be one of 1, 3, 5, 7, 14, 30/],
    [{ logLevel: 'LOUD' }, 'logLevel', /DEBUG, INFO, WARN or ERROR/],
    [{ apiRateLimit: 0 }, 'apiRateLimit', /from 1 to 10000/],
    [{ tracing: 'on' }, 'tracing', /true or false/],
    [{ settings: '{not json' }, 'settings', /JSON object/],
    [{ settings: ['A'] }, 'settings', /object of variable names/],
    [{ settings: { cacheTtl: '1' } }, 'settings', /UPPER_SNAKE_CASE/],
    [{ settings: { AWS_REGION: 'eu-west-1' } }, 'settings', /not AWS_\/LAMBDA_/],
    [
      { settings: { OPENCTI_URL: 'https://x.test' } },
      'settings',
      /must not set OPENCTI_URL: the stack sets it/,
    ],
    [{ settings: { CACHE_TTL_HOURS: 'soon' } }, 'settings.CACHE_TTL_HOURS', /hours from 0/],
  ])('refuses %j, naming %s', (patch, key, expected) => {
    const error = errorOf({ ...required, ...patch });
    expect(error.key).toBe(key);
    expect(error.message).toMatch(expected);
    expect(error.message).toContain(
      key.includes('.') ? `in the "settings" object of the cdk.json context` : `-c ${key}=`,
    );
    expect(error.message.split('\n')).toHaveLength(1);
  });

  it('refuses a secret in settings without echoing its value', () => {
    const value = 'cip-live-key-that-must-not-leak';
    for (const name of ['CRIMINALIP_API_KEY', 'OPENCTI_TOKEN', 'WEBHOOK_TOKEN']) {
      const error = errorOf({ ...required, settings: { [name]: value } });
      expect(error.message).toContain(`must not hold ${name}`);
      expect(error.message).toContain('Secrets Manager');
      expect(error.message).not.toContain(value);
    }
  });

  it('produces values lib/config reads back unchanged in the functions', () => {
    const s = resolve({ ...required, scope: 'Url,Hostname', maxTlp: 'TLP:RED', phishingThreshold: 55 });
    const config = loadConfig(
      {
        OPENCTI_URL: s.openctiUrl,
        CONNECTOR_ID: s.connectorId,
        CONNECTOR_SCOPE: s.scope.join(','),
        CRIMINALIP_MAX_TLP: s.maxTlp,
        PHISHING_THRESHOLD: String(s.phishingThreshold),
      },
      { criminalIp: false, opencti: false },
    );
    expect(config.opencti.scope).toEqual(['Url', 'Hostname']);
    expect(config.opencti.maxTlp).toBe('TLP:RED');
    expect(config.mapping.phishingThreshold).toBe(55);
  });

  it('recognises the cdk.json example values', () => {
    expect(usesPlaceholders(resolve(required))).toBe(false);
    expect(
      usesPlaceholders(resolve({ ...required, connectorId: '00000000-0000-4000-8000-000000000000' })),
    ).toBe(true);
    expect(usesPlaceholders(resolve({ ...required, openctiUrl: 'https://opencti.example.com' }))).toBe(true);
  });
});

describe('parseSchedule', () => {
  it.each([
    ['2 minutes', { kind: 'rate', minutes: 2 }],
    ['1 minute', { kind: 'rate', minutes: 1 }],
    ['6 hours', { kind: 'rate', minutes: 360 }],
    ['1 day', { kind: 'rate', minutes: 1440 }],
    ['rate(12 hours)', { kind: 'rate', minutes: 720 }],
    ['cron(0 3 * * ? *)', { kind: 'expression', expression: 'cron(0 3 * * ? *)' }],
  ])('reads %s', (text, spec) => {
    expect(parseSchedule('reenrichRate', text)).toEqual(spec);
  });
});
