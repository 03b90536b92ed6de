import { ConfigError, loadConfig } from '../../lib/config';

const base = {
  CRIMINALIP_API_KEY: 'cip-secret-key-value-123',
  OPENCTI_URL: 'https://opencti.example.com/',
  OPENCTI_TOKEN: 'octi-secret-token-456',
  CONNECTOR_ID: '0b0f6a7e-0c1f-4a57-9d41-6f1d2f3b9a10',
};

describe('SCORE_UPDATE and INDICATOR_CONFIDENCE', () => {
  it('default to own and evidence', () => {
    const c = loadConfig(base);
    expect(c.mapping.scoreUpdate).toBe('own');
    expect(c.mapping.indicatorConfidence).toBe('evidence');
  });

  it.each(['own', 'replace', 'raise', 'KEEP'])('accepts SCORE_UPDATE=%s', (value) => {
    expect(loadConfig({ ...base, SCORE_UPDATE: value }).mapping.scoreUpdate).toBe(value.toLowerCase());
  });

  it('accepts a fixed INDICATOR_CONFIDENCE from 0 to 100', () => {
    expect(loadConfig({ ...base, INDICATOR_CONFIDENCE: '60' }).mapping.indicatorConfidence).toBe(60);
    expect(loadConfig({ ...base, INDICATOR_CONFIDENCE: 'Evidence' }).mapping.indicatorConfidence).toBe(
      'evidence',
    );
  });

  it.each([
    ['SCORE_UPDATE', 'lower', 'own, replace, raise, keep'],
    ['INDICATOR_CONFIDENCE', '101', 'evidence or an integer from 0 to 100'],
    ['INDICATOR_CONFIDENCE', 'high', 'evidence or an integer from 0 to 100'],
  ])('refuses %s=%s in one line', (name, value, expected) => {
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(`${name} must be ${expected}`);
  });
});
