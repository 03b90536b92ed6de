/** What a quick verdict alone (scan mode auto) writes: a score, a verdict label, and for "malicious" an Indicator. */
import { bundleOf, ofType, run, SETTINGS } from './support';
import { expectValidBundle } from '../helpers/stix-validator';

const quick = (result: string, type = 'trusted-domain') => ({
  status: 200,
  message: 'api success',
  data: { call_count: 3, domain: 'example.com', reg_dtime: '2026-03-01 10:00:00', result, type },
});

describe('a quick verdict without a report', () => {
  it('scores a malicious domain as dangerous, labels it and creates an Indicator', () => {
    const result = run(
      { type: 'domain-name', value: 'secure-signin.xyz' },
      { kind: 'domain', quick: quick('malicious', 'phishing') },
    );
    expect(result.score).toBe(SETTINGS.scoreWords.dangerous);
    expect(result.labels).toEqual(['quick verdict: malicious']);
    expect(ofType(result, 'indicator')).toHaveLength(1);
    expect(ofType(result, 'indicator')[0]).toMatchObject({
      x_opencti_score: 75,
      description: expect.stringContaining('quick verdict: malicious') as string,
    });
    expect(result.summary).toContain('quick verdict on `secure-signin.xyz`');
    expect(result.summary).toMatch(/Quick verdict.*Malicious \(phishing\)/);
    // No scan: no report link.
    expect(ofType(result, 'domain-name')[0]?.external_references).toBeUndefined();
    expectValidBundle(bundleOf(result));
  });

  it('scores a safe domain as safe, with no Indicator', () => {
    const result = run(
      { type: 'domain-name', value: 'example.com' },
      { kind: 'domain', quick: quick('safe') },
    );
    expect(result.score).toBe(SETTINGS.scoreWords.safe);
    expect(result.labels).toEqual(['quick verdict: safe']);
    expect(ofType(result, 'indicator')).toHaveLength(0);
    expectValidBundle(bundleOf(result));
  });

  it('writes nothing but the observable for an unknown verdict', () => {
    const result = run(
      { type: 'domain-name', value: 'example.com' },
      { kind: 'domain', quick: quick('unknown') },
    );
    expect(result.score).toBeUndefined();
    expect(result.labels).toEqual([]);
    expect(result.warnings.join(' ')).toMatch(/none of the expected sections/);
  });
});
