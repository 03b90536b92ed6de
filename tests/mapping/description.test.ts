import fc from 'fast-check';
import { analystText, mergeDescription, SUMMARY_END, SUMMARY_START } from '../../lib/mapping/description';

describe('the Criminal IP section of a description', () => {
  it('is the whole description of an observable without one', () => {
    expect(mergeDescription(undefined, 'S')).toBe(`${SUMMARY_START}\n\nS\n\n${SUMMARY_END}`);
    expect(mergeDescription('  ', 'S')).toBe(`${SUMMARY_START}\n\nS\n\n${SUMMARY_END}`);
  });

  it('is appended once after the analyst text, then replaced in place', () => {
    const once = mergeDescription('Analyst.', 'first');
    expect(once).toBe(`Analyst.\n\n${SUMMARY_START}\n\nfirst\n\n${SUMMARY_END}`);
    const twice = mergeDescription(`${once}\n\nAdded below later.`, 'second');
    expect(twice).toBe(`Analyst.\n\n${SUMMARY_START}\n\nsecond\n\n${SUMMARY_END}\n\nAdded below later.`);
  });

  it('keeps the analyst text byte for byte and never grows with repeated enrichments', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 5 }),
        (text, summaries) => {
          fc.pre(!text.includes(SUMMARY_START) && text.trim() !== '');
          let description = text;
          for (const summary of summaries) description = mergeDescription(description, summary);
          expect(description.startsWith(text)).toBe(true);
          expect(description).toBe(mergeDescription(text, summaries[summaries.length - 1]!));
          expect(analystText(description)).toBe(`${text}\n\n`);
        },
      ),
    );
  });
});
