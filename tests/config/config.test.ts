import { ConfigError, loadConfig } from '../../lib/config';

const base = {
  CRIMINALIP_API_KEY: 'cip-secret-key-value-123',
  OPENCTI_URL: 'https://opencti.example.com/',
  OPENCTI_TOKEN: 'octi-secret-token-456',
  CONNECTOR_ID: '0b0f6a7e-0c1f-4a57-9d41-6f1d2f3b9a10',
};

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig(base);
    expect(c.criminalIp.apiUrl).toBe('https://api.criminalip.io');
    expect(c.criminalIp.concurrency).toBe(1);
    expect(c.opencti.url).toBe('https://opencti.example.com');
    expect(c.opencti.connectorName).toBe('Criminal IP');
    expect(c.opencti.scope).toEqual(['IPv4-Addr', 'IPv6-Addr', 'Domain-Name', 'Hostname', 'Url']);
    expect(c.opencti.maxTlp).toBe('TLP:AMBER');
    expect(c.mapping.scoreWords).toEqual({ safe: 10, low: 30, moderate: 50, dangerous: 75, critical: 95 });
    expect(c.mapping.indicatorThreshold).toBe('dangerous');
    expect(c.port).toBe(8080);
  });

  it('names a missing variable in one line', () => {
    const { CRIMINALIP_API_KEY: _k, ...rest } = base;
    const e = errorOf(rest);
    expect(e.message).toMatch(/^Invalid configuration: CRIMINALIP_API_KEY is required/);
    expect(e.message).not.toContain('\n');
  });

  it.each([
    ['CONNECTOR_ID', 'not-a-uuid', /CONNECTOR_ID must be a UUID/],
    ['CRIMINALIP_MAX_TLP', 'TLP:PURPLE', /CRIMINALIP_MAX_TLP must be TLP:CLEAR/],
    ['CONNECTOR_SCOPE', 'IPv4-Addr,Malware', /CONNECTOR_SCOPE must be a comma-separated list/],
    ['PORT', '70000', /PORT must be a TCP port/],
    ['OPENCTI_URL', 'ftp://x', /OPENCTI_URL must be an http\(s\) URL/],
    ['SCORE_MAP', 'safe:10,low:30', /SCORE_MAP is missing a score for "moderate"/],
  ])('rejects an invalid %s', (name, value, message) => {
    expect(errorOf({ ...base, [name]: value }).message).toMatch(message);
  });

  it('accepts scope and TLP case-insensitively', () => {
    const c = loadConfig({
      ...base,
      CONNECTOR_SCOPE: 'ipv4-addr, url',
      CRIMINALIP_MAX_TLP: 'tlp:amber+strict',
    });
    expect(c.opencti.scope).toEqual(['IPv4-Addr', 'Url']);
    expect(c.opencti.maxTlp).toBe('TLP:AMBER+STRICT');
  });

  it('never prints a secret value, even when it is invalid', () => {
    for (const name of ['CRIMINALIP_API_KEY', 'OPENCTI_TOKEN', 'WEBHOOK_TOKEN']) {
      let message = '';
      try {
        loadConfig({ ...base, [name]: 'x'.repeat(5) + 'SECRET' });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).not.toContain('SECRET');
    }
    const broken = errorOf({ ...base, CRIMINALIP_API_URL: 'not a url' });
    expect(broken.message).not.toContain(base.CRIMINALIP_API_KEY);
    expect(broken.message).not.toContain(base.OPENCTI_TOKEN);
  });

  it('lets dry runs go without OpenCTI settings', () => {
    const c = loadConfig({ CRIMINALIP_API_KEY: 'k' }, { opencti: false });
    expect(c.opencti.url).toBe('');
    expect(() => loadConfig({ CRIMINALIP_API_KEY: 'k' })).toThrow(/OPENCTI_URL|CONNECTOR_ID|OPENCTI_TOKEN/);
  });
});
