/** The Indicator's STIX confidence comes from the evidence (INDICATOR_CONFIDENCE, docs/mapping.md Score). */
import { expectValidBundle } from '../helpers/stix-validator';
import { bundleOf, find, fixture, run, SETTINGS, TLP } from './support';

const phishing = () =>
  ({ kind: 'domain', scanId: '25436128', report: fixture('domain-report-phishing.json') }) as const;

describe('Indicator confidence', () => {
  it("is a domain's phishing probability (96.5 % → 97)", () => {
    const result = run({ type: 'domain-name', value: 'secure-login-paypa1.com' }, phishing(), {
      markingRefs: [TLP.amber],
    });
    expectValidBundle(bundleOf(result));
    expect(find(result, result.indicatorId!)).toMatchObject({ type: 'indicator', confidence: 97 });
  });

  it('is one fixed value when INDICATOR_CONFIDENCE is a number', () => {
    const result = run({ type: 'domain-name', value: 'secure-login-paypa1.com' }, phishing(), {
      markingRefs: [],
      settings: { ...SETTINGS, indicatorConfidence: 40 },
    });
    expect(find(result, result.indicatorId!)).toMatchObject({ confidence: 40 });
  });
});
