/**
 * Only names OpenCTI accepts become objects: OpenCTI refuses a new Domain-Name or Hostname whose labels do not begin
 * and end with an ASCII letter or digit, or a domain whose last label is one character ("Observable is not correctly
 * formatted"), and every relationship to it fails with it, leaving errors on the work.
 */
import fc from 'fast-check';
import { checkName, acceptedDomainName } from '../../lib/mapping/values';
import { expectValidBundle } from '../helpers/stix-validator';
import { bundleOf, ids, linked, ofType, run } from './support';

// OpenCTI's rules, written out here independently of lib/mapping: letters, digits and inner hyphens per label.
const OPENCTI_HOSTNAME =
  /^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$/;
const OPENCTI_DOMAIN =
  /^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])\.)+[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]$/;

const IP = '192.0.2.10';
const ipId = ids.value('ipv4-addr', IP);

describe('names OpenCTI refuses', () => {
  it.each([
    ['hostname', '_dmarc.example.com'],
    ['hostname', 'host_.example.com'],
    ['hostname', '-edge.example.com'],
    ['hostname', 'edge-.example.com'],
    ['hostname', 'a..example.com'],
    ['domain-name', 'example.a'],
    ['domain-name', '_sip._tcp.example.com'],
    ['domain-name', '*.example.com'],
  ] as const)('refuses the %s %s with a reason', (kind, value) => {
    const checked = checkName(kind, value);
    expect(checked).toMatchObject({ ok: false, name: true, reason: expect.any(String) });
  });

  it('turns international names into punycode, as OpenCTI stores them', () => {
    expect(checkName('domain-name', 'bücher.example')).toEqual({ ok: true, value: 'xn--bcher-kva.example' });
    expect(checkName('hostname', 'Mail.Bücher.Example.')).toEqual({
      ok: true,
      value: 'mail.xn--bcher-kva.example',
    });
    expect(acceptedDomainName('例え.テスト')).toBe('xn--r8jz45g.xn--zckzah');
  });

  it('keeps ordinary names, lower-cased and without the trailing dot', () => {
    expect(checkName('hostname', 'PTR-1.Example.NET.')).toEqual({ ok: true, value: 'ptr-1.example.net' });
    expect(acceptedDomainName('xn--bcher-kva.example')).toBe('xn--bcher-kva.example');
    expect(acceptedDomainName('a.io')).toBe('a.io');
  });

  it('says nothing about values that are no names at all', () => {
    expect(checkName('domain-name', 'not a domain')).toMatchObject({ ok: false, name: false });
    expect(checkName('hostname', '192.0.2.1')).toMatchObject({ ok: false, name: false });
    expect(checkName('hostname', '')).toMatchObject({ ok: false, name: false });
  });
});

describe('property: every accepted name passes OpenCTI’s rules', () => {
  const labelChars = fc.constantFrom(...'abcXYZ019-_ü例.'.split(''));
  const names = fc.oneof(
    fc.string({ unit: labelChars, minLength: 1, maxLength: 40 }),
    fc.domain(),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
  );

  it('hostnames', () => {
    fc.assert(
      fc.property(names, (name) => {
        const checked = checkName('hostname', name);
        if (checked.ok) {
          expect(checked.value).toMatch(OPENCTI_HOSTNAME);
          expect(checked.value).toBe(checked.value.toLowerCase());
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('domain names', () => {
    fc.assert(
      fc.property(names, (name) => {
        const checked = checkName('domain-name', name);
        if (checked.ok) expect(checked.value).toMatch(OPENCTI_DOMAIN);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts every RFC 1123 domain with a last label of two or more characters', () => {
    fc.assert(
      fc.property(fc.domain(), (name) => {
        fc.pre(!/\.[a-z0-9]$/i.test(name) && !/\.\d+$/.test(name));
        expect(checkName('domain-name', name)).toEqual({ ok: true, value: name.toLowerCase() });
      }),
      { numRuns: 1000 },
    );
  });
});

describe('an IP report naming such hosts', () => {
  const result = run(
    { type: 'ipv4-addr', value: IP },
    {
      kind: 'ip',
      report: {
        ip: IP,
        hostname: {
          data: [
            { domain_name_full: '_dmarc.example.com' },
            { domain_name_full: 'host_.example.com' },
            { domain_name_full: 'bücher.example' },
            { domain_name_full: 'ptr.example.net' },
          ],
        },
        domain: {
          count: 3,
          data: [{ domain: 'example.a' }, { domain: 'shop.example.org' }, { domain: 'not a domain' }],
        },
      },
    },
  );

  it('leaves them out of the bundle and keeps the rest valid', () => {
    const values = [...ofType(result, 'hostname'), ...ofType(result, 'domain-name')].map((o) => o.value);
    expect(values.sort()).toEqual(['ptr.example.net', 'shop.example.org', 'xn--bcher-kva.example']);
    expect(linked(result, 'related-to', ids.value('hostname', 'xn--bcher-kva.example'), ipId)).toBe(true);
    expectValidBundle(bundleOf(result));
  });

  it('lists them in the summary and the warnings', () => {
    expect(result.summary).toContain('Names left out (OpenCTI would refuse them)');
    for (const name of ['_dmarc.example.com', 'host_.example.com', 'example.a']) {
      expect(result.summary).toContain(name);
      expect(result.warnings.some((w) => w.includes(`"${name}"`))).toBe(true);
    }
    expect(result.summary).not.toContain('not a domain');
  });
});

describe('a URL whose host OpenCTI would refuse', () => {
  it('is enriched without a Domain-Name for that host, and says why', () => {
    const result = run(
      { type: 'url', value: 'https://host_.example.com/login' },
      { kind: 'domain', scanId: '42', report: { status: 200, data: { mapped_ip: [{ ip: '192.0.2.80' }] } } },
    );
    expect(ofType(result, 'domain-name')).toEqual([]);
    expect(result.warnings.some((w) => w.includes('"host_.example.com"'))).toBe(true);
    expectValidBundle(bundleOf(result));
  });

  it('gets the punycode Domain-Name of an international host', () => {
    const result = run(
      { type: 'url', value: 'https://bücher.example/login' },
      { kind: 'domain', scanId: '42', report: { status: 200, data: { mapped_ip: [{ ip: '192.0.2.80' }] } } },
    );
    expect(ofType(result, 'domain-name').map((o) => o.value)).toEqual(['xn--bcher-kva.example']);
  });
});
