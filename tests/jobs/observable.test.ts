import {
  entityTypeOf,
  inferObservableType,
  normaliseObservable,
  observableTypeOf,
  readObservable,
  stixTypeOfId,
  toAsciiName,
  validateObservable,
} from '../../lib/jobs/observable';
import { JobRejection } from '../../lib/jobs/types';
import { isValidObservableValue } from '../../lib/stix/observables';
import { OBSERVABLE_STIX_TYPES, type ObservableStixType } from '../../lib/stix/core';

function rejectionOf(action: () => unknown): JobRejection {
  try {
    action();
  } catch (error) {
    if (error instanceof JobRejection) return error;
    throw error;
  }
  throw new Error('expected a JobRejection');
}

describe('inferObservableType', () => {
  it.each<[string, ObservableStixType | undefined]>([
    ['8.8.8.8', 'ipv4-addr'],
    ['10.0.0.0/8', 'ipv4-addr'], // a range: inferred, then refused by validation with a clear reason
    ['010.1.1.1', 'ipv4-addr'],
    ['2001:4860:4860::8888', 'ipv6-addr'],
    ['::1', 'ipv6-addr'],
    ['::ffff:192.0.2.1', 'ipv6-addr'],
    ['fe80::1%eth0', 'ipv6-addr'],
    ['https://example.com/path?q=1', 'url'],
    ['HTTP://EXAMPLE.COM', 'url'],
    ['ftp://files.example.org/pub', 'url'],
    ['ssh://host.example.com', 'url'], // a URL, but validation refuses the scheme
    ['example.com', 'domain-name'],
    ['www.example.com', 'domain-name'], // registrability needs the public-suffix list: dotted = domain-name
    ['example.co.uk', 'domain-name'],
    ['example.com.', 'domain-name'],
    ['bücher.de', 'domain-name'],
    ['xn--bcher-kva.de', 'domain-name'],
    ['fileserver', 'hostname'],
    ['WEB01', 'hostname'],
    ['1.2.3', undefined],
    ['12345', undefined],
    ['example.com/path', undefined],
    ['user@example.com', undefined],
    ['', undefined],
    [' 8.8.8.8', undefined],
    ['exa mple.com', undefined],
    ['line\nbreak.com', undefined],
  ])('%j → %s', (value, expected) => {
    expect(inferObservableType(value)).toBe(expected);
  });
});

describe('normaliseObservable', () => {
  it.each<[ObservableStixType, string, string]>([
    ['domain-name', 'Example.COM', 'example.com'],
    ['domain-name', 'example.com.', 'example.com'],
    ['domain-name', 'BÜCHER.de', 'bücher.de'], // kept in Unicode, as OpenCTI stores it
    ['domain-name', 'xn--bcher-kva.de', 'xn--bcher-kva.de'],
    ['hostname', 'Web01.Corp.example.', 'Web01.Corp.example'], // OpenCTI 6.9 keeps host name case
    ['hostname', '_sip._tcp.example.com', '_sip._tcp.example.com'],
    ['ipv4-addr', '8.8.8.8', '8.8.8.8'],
    ['ipv4-addr', '0.0.0.0', '0.0.0.0'],
    ['ipv6-addr', '2001:0DB8:0000::0001', '2001:0DB8:0000::0001'], // not recompressed: OpenCTI does not
    ['ipv6-addr', '::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['url', 'HTTPS://Example.com/A?b=C#d', 'HTTPS://Example.com/A?b=C#d'],
    ['url', 'ftp://files.example.org/pub/x.tar.gz', 'ftp://files.example.org/pub/x.tar.gz'],
  ])('%s %j → %j', (type, value, expected) => {
    expect(normaliseObservable(type, value)).toBe(expected);
  });
});

describe('validateObservable', () => {
  it.each<[ObservableStixType, string, RegExp]>([
    ['ipv4-addr', '', /is empty/],
    ['domain-name', 'exa\u0000mple.com', /control characters/],
    ['url', 'https://example.com/\u0085', /control characters/],
    ['domain-name', 'exa mple.com', /white space/],
    ['domain-name', 'exa\u200bmple.com', /invisible/],
    ['domain-name', 'exa\ud800mple.com', /lone surrogate/],
    ['url', `https://example.com/${'a'.repeat(2100)}`, /too long \(2120 characters, at most 2048\)/],
    ['domain-name', `${'abcde.'.repeat(42)}com`, /too long \(255 characters, at most 253\)/],
    ['domain-name', `${'a'.repeat(64)}.com`, /longer than 63/],
    ['domain-name', 'a..example.com', /empty label/],
    ['domain-name', '.example.com', /empty label/],
    ['domain-name', '-bad.example.com', /hyphen/],
    ['domain-name', 'exa_mple.com', /letters, digits and hyphens only/],
    ['domain-name', 'example', /single label.*\(it looks like hostname, not domain-name\)/],
    ['domain-name', 'example.123', /numeric label/],
    ['domain-name', 'example.c0m', /not a top-level domain label/],
    ['domain-name', '*.example.com', /wildcard/],
    ['domain-name', '8.8.8.8', /is an IP address, not a name \(it looks like ipv4-addr, not domain-name\)/],
    ['domain-name', 'https://example.com', /is a URL/],
    ['hostname', 'host:8080', /labels hold letters, digits and hyphens \(and underscores\) only/],
    ['ipv4-addr', '10.0.0.0/8', /CIDR range/],
    ['ipv4-addr', '010.1.1.1', /leading zero/],
    ['ipv4-addr', '1.2.3.256', /above 255/],
    ['ipv4-addr', '1.2.3', /four-part decimal/],
    ['ipv4-addr', '0x7f.0.0.1', /four-part decimal/],
    ['ipv4-addr', '2001:db8::1', /\(it looks like ipv6-addr, not ipv4-addr\)/],
    ['ipv4-addr', 'example.com', /four-part decimal.*\(it looks like domain-name, not ipv4-addr\)/],
    ['ipv6-addr', '2001:db8::/32', /CIDR range/],
    ['ipv6-addr', 'fe80::1%eth0', /zone index/],
    ['ipv6-addr', '[2001:db8::1]', /brackets/],
    ['ipv6-addr', '2001:db8::g', /not a valid IPv6/],
    ['ipv6-addr', '1::2::3', /not a valid IPv6/],
    ['url', 'example.com/path', /must start with http:\/\/, https:\/\/ or ftp:\/\//],
    ['url', 'javascript://alert(1)', /scheme javascript/],
    ['url', 'http://', /does not parse|has no host/],
  ])('%s %j is refused: %s', (type, value, reason) => {
    const error = rejectionOf(() => validateObservable(type, value));
    expect(error.reason).toBe('invalid-value');
    expect(error.detail).toMatch(reason);
  });

  it('accepts international names in Unicode and in punycode', () => {
    expect(() => validateObservable('domain-name', 'bücher.de')).not.toThrow();
    expect(() => validateObservable('domain-name', 'xn--bcher-kva.de')).not.toThrow();
    expect(() => validateObservable('domain-name', '例え.テスト')).not.toThrow();
    expect(toAsciiName('Bücher.DE')).toBe('xn--bcher-kva.de');
    expect(toAsciiName('Example.COM')).toBe('example.com');
  });

  it('quotes the value JSON-escaped, so it cannot forge a log line', () => {
    const error = rejectionOf(() => validateObservable('hostname', 'a\nb'));
    expect(error.message).toContain('"a\\nb"');
    expect(error.message).not.toContain('\n');
  });

  it('accepts a value only if the STIX builders can write it (the two rule sets agree)', () => {
    const accepted: Array<[ObservableStixType, string]> = [
      ['ipv4-addr', '203.0.113.7'],
      ['ipv6-addr', '2001:db8::1'],
      ['domain-name', 'Example.com.'],
      ['domain-name', 'bücher.de'],
      ['hostname', '_sip._tcp.Example.com'],
      ['hostname', 'fileserver'],
      ['url', 'https://example.com/a?b=c'],
    ];
    for (const [type, value] of accepted) {
      expect(isValidObservableValue(type, normaliseObservable(type, value))).toBe(true);
    }
  });
});

describe('readObservable', () => {
  it('infers the type when none is given and normalises the value', () => {
    expect(readObservable('Example.COM')).toEqual({ type: 'domain-name', value: 'example.com' });
    expect(readObservable('8.8.8.8')).toEqual({ type: 'ipv4-addr', value: '8.8.8.8' });
  });

  it('lets an explicit type win over the guess', () => {
    expect(readObservable('host.example.com', 'hostname')).toEqual({
      type: 'hostname',
      value: 'host.example.com',
    });
  });

  it('says what to do when the type cannot be told', () => {
    expect(rejectionOf(() => readObservable('example.com/path')).detail).toMatch(
      /cannot tell the type of "example.com\/path": give it \(one of ipv4-addr, ipv6-addr, domain-name, hostname, url\)/,
    );
    expect(rejectionOf(() => readObservable(' 8.8.8.8')).detail).toMatch(/white space/);
  });
});

describe('type names', () => {
  it('maps each STIX type to its OpenCTI entity type and back, in any case', () => {
    for (const type of OBSERVABLE_STIX_TYPES) {
      const entityType = entityTypeOf(type);
      expect(observableTypeOf(entityType)).toBe(type);
      expect(observableTypeOf(entityType.toUpperCase())).toBe(type);
      expect(observableTypeOf(type)).toBe(type);
    }
    expect(entityTypeOf('ipv4-addr')).toBe('IPv4-Addr');
    expect(entityTypeOf('url')).toBe('Url');
  });

  it('knows the legacy hostname type and nothing outside the product', () => {
    expect(observableTypeOf('x-opencti-hostname')).toBe('hostname');
    expect(observableTypeOf('Text')).toBeUndefined();
    expect(observableTypeOf('email-addr')).toBeUndefined();
    expect(observableTypeOf('')).toBeUndefined();
  });

  it('reads the STIX type of a STIX id', () => {
    expect(stixTypeOfId('ipv4-addr--2f689bf9-0ff2-545f-aa61-e495eb8cecc7')).toBe('ipv4-addr');
    expect(stixTypeOfId('not-an-id')).toBeUndefined();
  });
});
