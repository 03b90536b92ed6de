/**
 * STIX patterns built from hostile values stay one comparison and give the value back exactly.
 * The parser below follows the STIX 2.1 patterning grammar for a single comparison, whose string
 * literal knows only the escapes \\ and \'; anything else makes it fail.
 */
import fc from 'fast-check';
import {
  StixInputError,
  equalityPattern,
  escapePatternString,
  indicatorId,
  type ObservableStixType,
} from '../../lib/stix';
import { singleComparison } from '../helpers/stix-pattern';

const HOSTILE: Array<[string, string]> = [
  ['a single quote', "o'reilly.example"],
  ['a lone backslash', 'C:\\path\\'],
  ['an escaped-looking quote', "\\'"],
  ['a closing literal and a second comparison', "x'] OR [ipv4-addr:value = '1.1.1.1"],
  ['pattern operators', "' AND ipv4-addr:value != '' ] FOLLOWEDBY [ x:y = 'z"],
  ['a backslash before the closing quote', 'abc\\'],
  ['control characters', 'a\u0000b\nc\rd\te\u001bf\u007fg\u0085h'],
  ['Unicode line separators and bidi controls', 'a\u2028b\u2029c\u202ed\u200b'],
  ['non-Latin scripts and emoji', '한국어.例え.пример 😀👨‍👩‍👧 مرحبا'],
  ['combining marks', 'e\u0301\u0302\u0303'],
  ['10k quotes', "'".repeat(10_000)],
  ['10k backslashes', '\\'.repeat(10_000)],
  ['10k mixed characters', "\\'x]".repeat(2_500)],
];

describe('escapePatternString', () => {
  it("escapes backslash as \\\\ and single quote as \\' and nothing else", () => {
    expect(escapePatternString("it's C:\\dir")).toBe("it\\'s C:\\\\dir");
    expect(escapePatternString('plain "double" quotes\nand newline')).toBe(
      'plain "double" quotes\nand newline',
    );
  });

  it.each(HOSTILE)('keeps %s inside one literal', (_name, value) => {
    const pattern = `[url:value = '${escapePatternString(value)}']`;
    expect(singleComparison(pattern)).toEqual({ type: 'url', value });
  });

  it('refuses a lone surrogate, which has no UTF-8 form', () => {
    expect(() => escapePatternString('a\uD800b')).toThrow(StixInputError);
  });
});

describe('equalityPattern', () => {
  it('writes the form OpenCTI hashes into indicator ids', () => {
    expect(equalityPattern('ipv4-addr', '8.8.8.8')).toBe("[ipv4-addr:value = '8.8.8.8']");
    expect(indicatorId(equalityPattern('ipv4-addr', '8.8.8.8'))).toBe(
      'indicator--7ad3d74b-c761-522d-9359-5e7565a3abb4',
    );
    expect(indicatorId(equalityPattern('domain-name', 'shortsvelventysjo.shop'))).toBe(
      'indicator--e3a64916-7775-5262-9246-9d3783cfdfa6',
    );
  });

  it('lower-cases domain names like the observable it matches', () => {
    expect(equalityPattern('domain-name', 'ShortSvelventysjo.SHOP')).toBe(
      "[domain-name:value = 'shortsvelventysjo.shop']",
    );
    expect(equalityPattern('hostname', 'Host.Example.com')).toBe("[hostname:value = 'Host.Example.com']");
  });

  it.each(HOSTILE)('keeps a url with %s a single comparison that round-trips', (_name, value) => {
    expect(singleComparison(equalityPattern('url', value))).toEqual({ type: 'url', value });
  });

  it('refuses an empty value', () => {
    expect(() => equalityPattern('url', '')).toThrow(StixInputError);
  });

  const TYPES: ObservableStixType[] = ['ipv4-addr', 'ipv6-addr', 'domain-name', 'hostname', 'url'];
  // Characters that matter to the grammar, mixed with ordinary and exotic ones.
  const tricky = fc.string({
    unit: fc.constantFrom(
      "'",
      '\\',
      ']',
      '[',
      ' ',
      '=',
      ':',
      'a',
      'Z',
      '\u0000',
      '\n',
      '\u2028',
      '😀',
      ' OR ',
      "\\'",
    ),
    minLength: 1,
    maxLength: 200,
  });
  const anyText = fc.string({ unit: 'binary', minLength: 1, maxLength: 300 });

  it('round-trips any value through one comparison (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TYPES), fc.oneof(tricky, anyText), (type, value) => {
        const parsed = singleComparison(equalityPattern(type, value));
        expect(parsed).toEqual({ type, value: type === 'domain-name' ? value.toLowerCase() : value });
      }),
      { numRuns: 1000 },
    );
  });

  it('never lets two different values share a pattern (property)', () => {
    fc.assert(
      fc.property(fc.oneof(tricky, anyText), fc.oneof(tricky, anyText), (a, b) => {
        fc.pre(a !== b);
        expect(equalityPattern('url', a)).not.toBe(equalityPattern('url', b));
      }),
      { numRuns: 500 },
    );
  });
});
