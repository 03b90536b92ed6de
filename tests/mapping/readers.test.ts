/**
 * The tolerant readers and the score vocabulary: every spelling Criminal IP uses is understood,
 * everything else is refused without an exception.
 */
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { bool, items, num, payload, str, time } from '../../lib/mapping/read';
import { applyPolicy, probability, scorePercentage, scoreWord } from '../../lib/mapping/scores';
import { normaliseLabel } from '../../lib/mapping/labels';
import {
  asnOf,
  cveId,
  acceptedDomainName,
  httpUrl,
  ipFromHostPort,
  ipKind,
  nameCovers,
} from '../../lib/mapping/values';
import { mdText } from '../../lib/mapping/markdown';

describe('score words', () => {
  it.each([
    ['Critical', 'critical'],
    ['dangerous', 'dangerous'],
    ['  MODERATE ', 'moderate'],
    ['20% (Safe)', 'safe'],
    ['99% (Critical)', 'critical'],
    [1, 'safe'],
    [5, 'critical'],
  ])('reads %j as %s', (input, word) => {
    expect(scoreWord(input)).toBe(word);
  });

  it.each([['unknown'], [''], [null], [0], [6], [2.5], [{}], [['low']], ['20%']])('refuses %j', (input) => {
    expect(scoreWord(input)).toBeUndefined();
  });

  it('reads the percentage of a lite score', () => {
    expect(scorePercentage('20% (Safe)')).toBe(20);
    expect(scorePercentage('Safe')).toBeUndefined();
  });

  it('clamps phishing probabilities to 0-100 and refuses negatives', () => {
    expect(probability('96.5')).toBe(96.5);
    expect(probability(250)).toBe(100);
    expect(probability(-1)).toBeUndefined();
  });

  it('picks by policy', () => {
    const low = { word: 'low' as const, score: 30 };
    const high = { word: 'critical' as const, score: 95 };
    expect(applyPolicy(low, high, 'max')).toBe(high);
    expect(applyPolicy(low, high, 'inbound')).toBe(low);
    expect(applyPolicy(undefined, high, 'inbound')).toBe(high);
    expect(applyPolicy(undefined, undefined, 'max')).toBeUndefined();
  });
});

describe('readers', () => {
  it('reads numbers, strings and booleans across types', () => {
    expect(num(' 15169 ')).toBe(15169);
    expect(num('abc')).toBeUndefined();
    expect(num(Infinity)).toBeUndefined();
    expect(str(42)).toBe('42');
    expect(str('   ')).toBeUndefined();
    expect(bool('True')).toBe(true);
    expect(bool(0)).toBe(false);
    expect(bool('yes')).toBeUndefined();
  });

  it('reads list sections wrapped or bare', () => {
    expect(items({ count: 1, data: [1] })).toEqual([1]);
    expect(items([2])).toEqual([2]);
    expect(items({ count: 1 })).toEqual([]);
  });

  it('unwraps `data` only when the payload is wrapped', () => {
    expect(payload({ status: 200, data: { summary: {} } }, ['summary'])).toEqual({ summary: {} });
    expect(payload({ ip: '1.1.1.1', data: { x: 1 } }, ['ip'])).toEqual({ ip: '1.1.1.1', data: { x: 1 } });
    expect(payload('text', ['ip'])).toEqual({});
  });

  it('reads Criminal IP timestamps as UTC and refuses impossible dates', () => {
    expect(time('2024-07-24 16:14:23')?.toISOString()).toBe('2024-07-24T16:14:23.000Z');
    expect(time('2023-06-15')?.toISOString()).toBe('2023-06-15T00:00:00.000Z');
    expect(time('2025-01-01T00:00:00Z')?.toISOString()).toBe('2025-01-01T00:00:00.000Z');
    expect(time('2023-02-31 00:00:00')).toBeUndefined();
    expect(time('yesterday')).toBeUndefined();
  });
});

describe('values', () => {
  it('recognises IP addresses and host:port forms', () => {
    expect(ipKind('8.8.8.8')).toBe('ipv4-addr');
    expect(ipKind('2404:6800:400a:813::200e')).toBe('ipv6-addr');
    expect(ipKind('08.8.8.8')).toBeUndefined();
    expect(ipKind('fe80::1%eth0')).toBeUndefined();
    expect(ipKind('256.1.1.1')).toBeUndefined();
    expect(ipKind('1.2.3')).toBeUndefined();
    expect(ipFromHostPort('172.217.25.164:443')).toBe('172.217.25.164');
    expect(ipFromHostPort('[2001:db8::1]:443')).toBe('2001:db8::1');
  });

  it('takes as IPv4 exactly the dotted quads ipaddr.js calls four-part decimal', () => {
    const part = fc.oneof(
      fc.integer({ min: 0, max: 300 }).map(String),
      fc.constantFrom('00', '01', '0x1', '1e1', '', ' 1', '-1', '٣'),
    );
    const dotted = fc.array(part, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('.'));
    fc.assert(
      fc.property(dotted, (value) => {
        const reference = /^[\d.]+$/.test(value) && ipaddr.IPv4.isValidFourPartDecimal(value);
        expect(ipKind(value) === 'ipv4-addr').toBe(reference);
      }),
      { numRuns: 2000, seed: 4 },
    );
  });

  it('normalises domain names and refuses what is not one', () => {
    expect(acceptedDomainName('Ns1.Google.com.')).toBe('ns1.google.com');
    expect(acceptedDomainName('localhost')).toBeUndefined();
    expect(acceptedDomainName('1.2.3.4')).toBeUndefined();
    expect(acceptedDomainName('not a domain')).toBeUndefined();
  });

  it('matches wildcard certificate names one label deep', () => {
    expect(nameCovers('*.example.com', 'www.example.com')).toBe(true);
    expect(nameCovers('*.example.com', 'a.b.example.com')).toBe(false);
    expect(nameCovers('*.example.com', 'example.com')).toBe(false);
  });

  it('accepts http(s) URLs only, in their parsed form', () => {
    expect(httpUrl('http://google.com')).toBe('http://google.com/');
    expect(httpUrl('javascript:alert(1)')).toBeUndefined();
    expect(httpUrl('https://user:pw@example.com/')).toBeUndefined();
    expect(httpUrl('')).toBeUndefined();
    expect(httpUrl('not a url')).toBeUndefined();
  });

  it('reads CVE ids and AS numbers in their usual spellings', () => {
    expect(cveId(' cve-2021-44228 ')).toBe('CVE-2021-44228');
    expect(cveId('CVE-2021-123')).toBeUndefined();
    expect(asnOf('AS15169')).toBe(15169);
    expect(asnOf(15169)).toBe(15169);
    expect(asnOf('15169.5')).toBeUndefined();
    expect(asnOf(0)).toBeUndefined();
  });
});

describe('labels and Markdown', () => {
  it('normalises labels and refuses counts', () => {
    expect(normaliseLabel('Cloud_Service')).toBe('cloud service');
    expect(normaliseLabel('  Anonymous   VPN ')).toBe('anonymous vpn');
    expect(normaliseLabel('1,057')).toBeUndefined();
    expect(normaliseLabel('x'.repeat(51))).toBeUndefined();
  });

  it('escapes Markdown and flattens lines', () => {
    expect(mdText('a|b\n[x](y) ![i](z)')).toBe('a\\|b \\[x\\]\\(y\\) \\!\\[i\\]\\(z\\)');
    expect(mdText(' one  two\tthree\u00a0four ')).toBe('one two three four');
    expect(mdText('plain words stay as they are')).toBe('plain words stay as they are');
  });
});
