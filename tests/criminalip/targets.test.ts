import fc from 'fast-check';
import { InvalidTargetError, assertPublicTarget, isPublicIp, targetRejection } from '../../lib/criminalip';

describe('isPublicIp', () => {
  it.each([
    ['8.8.8.8', true],
    ['64.62.197.76', true],
    ['2606:4700:4700::1111', true],
    ['2a00:1450:4001:80b::200e', true],
    ['10.1.2.3', false],
    ['172.31.255.255', false],
    ['172.32.0.1', true],
    ['192.168.0.1', false],
    ['127.0.0.1', false],
    ['169.254.169.254', false],
    ['100.64.1.1', false],
    ['0.1.2.3', false],
    ['255.255.255.255', false],
    ['239.255.255.250', false],
    ['192.0.0.8', false],
    ['192.0.2.1', false],
    ['198.18.0.1', false],
    ['198.51.100.1', false],
    ['203.0.113.1', false],
    ['250.1.1.1', false],
    ['::1', false],
    ['::', false],
    ['fe80::1', false],
    ['fd12:3456::1', false],
    ['ff05::2', false],
    ['2001:db8:1::1', false],
    ['3fff::1', false],
    ['::ffff:8.8.8.8', false],
    ['64:ff9b::808:808', false],
    ['fe80::1%eth0', false],
    ['127.1', false],
    ['0x7f.0.0.1', false],
    ['8.8.8.8/32', false],
    ['example.com', false],
    ['', false],
  ])('%s → %s', (ip, expected) => {
    expect(isPublicIp(ip)).toBe(expected);
  });

  it('refuses every RFC 1918 address', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(fc.constant(10), octet, octet, octet),
          fc.tuple(fc.constant(172), fc.integer({ min: 16, max: 31 }), octet, octet),
          fc.tuple(fc.constant(192), fc.constant(168), octet, octet),
        ),
        (parts) => !isPublicIp(parts.join('.')),
      ),
    );
  });
});

describe('assertPublicTarget', () => {
  it.each([
    ['ipv4-addr', '8.8.8.8'],
    ['ipv6-addr', '2606:4700:4700::1111'],
    ['domain-name', 'google.com'],
    ['domain-name', 'Example.COM.'],
    ['domain-name', 'xn--bcher-kva.example.com'],
    ['hostname', 'mail.google.com'],
    ['url', 'http://account-verify-paypal.com.secure-signin.xyz/login.php'],
    ['url', 'https://8.8.8.8/dns-query'],
    ['url', 'https://[2606:4700:4700::1111]/'],
  ] as const)('accepts %s %s', (type, value) => {
    expect(() => assertPublicTarget(type, value)).not.toThrow();
  });

  it.each([
    ['ipv4-addr', '10.0.0.1', 'private'],
    ['ipv4-addr', '2606:4700:4700::1111', 'not an IPv4 address'],
    ['ipv4-addr', '8.8.8.0/24', 'CIDR'],
    ['ipv6-addr', '8.8.8.8', 'not an IPv6 address'],
    ['ipv6-addr', 'fe80::1', 'linkLocal'],
    ['domain-name', 'localhost', 'single-label'],
    ['domain-name', 'nas.local', 'special-use'],
    ['domain-name', 'db.internal', 'special-use'],
    ['domain-name', 'abcdefghijklmnopqrstuvwxyz234567.onion', 'special-use'],
    ['domain-name', '8.8.8.8', 'IP address'],
    ['domain-name', 'bad_-.-domain..com', 'not a valid domain name'],
    ['hostname', 'printer', 'single-label'],
    ['url', 'http://192.168.1.1/login', 'private'],
    ['url', 'http://[::1]:8080/', 'loopback'],
    ['url', 'http://intranet.test/', 'special-use'],
    ['url', 'ftp://files.example.com/a', 'unsupported URL scheme ftp'],
    ['url', 'not a url', 'not a valid URL'],
  ] as const)('refuses %s %s (%s)', (type, value, why) => {
    expect(targetRejection(type, value)).toContain(why);
    expect(() => assertPublicTarget(type, value)).toThrow(InvalidTargetError);
  });

  it('says the target was refused before any call, and is not retryable', () => {
    try {
      assertPublicTarget('ipv4-addr', '192.168.1.1');
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidTargetError);
      expect((error as InvalidTargetError).retryable).toBe(false);
      expect((error as InvalidTargetError).message).toMatch(/refused before any call: private IPv4 address/);
    }
  });
});

describe('internationalised domain names', () => {
  it('judges an IDN by its punycode form instead of refusing it', () => {
    expect(targetRejection('domain-name', 'bücher.de')).toBeUndefined();
    expect(targetRejection('hostname', 'www.bücher.de')).toBeUndefined();
    expect(targetRejection('domain-name', 'bücher.localhost')).toMatch(/special-use/);
  });
});
