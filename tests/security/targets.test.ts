/**
 * Private, loopback, link-local, documentation, multicast and other reserved addresses (RFC 6890
 * and RFC 6761 names) are never sent to Criminal IP: as IPv4 and IPv6 observables, as the host of
 * a URL, and as special-use names. Generated over the ranges with fast-check and run through the
 * pipeline against the Criminal IP stand-in, which records every request it receives.
 */
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import type { Observable } from '../../lib/jobs/types';
import { enrichmentJob, startHarness, type Harness } from '../pipeline/harness';

/** IPv4 ranges that are not globally routable (RFC 6890 and successors). */
const IPV4_RANGES = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.31.196.0/24',
  '192.52.193.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '192.175.48.0/24',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
];

/** IPv6 ranges outside global unicast, or special inside it. */
const IPV6_RANGES = [
  '::/128',
  '::1/128',
  '::ffff:0:0/96',
  '64:ff9b::/96',
  '100::/64',
  '2001::/32',
  '2001:2::/48',
  '2001:db8::/32',
  '2002::/16',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
];

const SPECIAL_NAMES = [
  'localhost',
  'local',
  'internal',
  'test',
  'example',
  'invalid',
  'onion',
  'arpa',
  'alt',
];

/** A random address inside `cidr`. */
function inRange(cidr: string): fc.Arbitrary<string> {
  const [network, bits] = ipaddr.parseCIDR(cidr);
  const bytes = network.toByteArray();
  return fc
    .array(fc.integer({ min: 0, max: 255 }), { minLength: bytes.length, maxLength: bytes.length })
    .map((noise) => {
      const out = bytes.map((byte, i) => {
        const fixed = Math.max(0, Math.min(8, bits - i * 8));
        const mask = (0xff << (8 - fixed)) & 0xff;
        return (byte & mask) | (noise[i]! & ~mask & 0xff);
      });
      return ipaddr.fromByteArray(out).toString();
    });
}

const ipv4 = fc.constantFrom(...IPV4_RANGES).chain(inRange);
const ipv6 = fc.constantFrom(...IPV6_RANGES).chain(inRange);
/**
 * URL hosts: in a URL an IPv4-mapped IPv6 address names its IPv4 address (::ffff:1.0.0.0 is the
 * public 1.0.0.0), so mapped hosts carry a reserved IPv4 address.
 */
const urlIpv6 = fc.oneof(
  fc.constantFrom(...IPV6_RANGES.filter((r) => r !== '::ffff:0:0/96')).chain(inRange),
  ipv4.map((v4) => `::ffff:${v4}`),
);
const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);

const observable: fc.Arbitrary<Observable> = fc.oneof(
  ipv4.map((value) => ({ type: 'ipv4-addr' as const, value })),
  ipv6.map((value) => ({ type: 'ipv6-addr' as const, value })),
  fc
    .tuple(
      fc.constantFrom('http', 'https'),
      fc.oneof(
        ipv4,
        urlIpv6.map((v) => `[${v}]`),
      ),
      fc.webPath(),
    )
    .map(([scheme, host, path]) => ({ type: 'url' as const, value: `${scheme}://${host}${path}` })),
  fc
    .tuple(fc.array(label, { minLength: 0, maxLength: 2 }), fc.constantFrom(...SPECIAL_NAMES))
    .map(([labels, suffix]) => ({ type: 'domain-name' as const, value: [...labels, suffix].join('.') })),
  fc
    .tuple(label, fc.constantFrom(...SPECIAL_NAMES))
    .map(([host, suffix]) => ({ type: 'hostname' as const, value: `${host}.${suffix}` })),
);

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(() => h.close());

it('never sends a private or reserved target to Criminal IP', async () => {
  let jobs = 0;
  await fc.assert(
    fc.asyncProperty(observable, async (target) => {
      jobs += 1;
      const outcome = await h.run(enrichmentJob(h, { ...target, markingRefs: [] }));
      expect(outcome).toMatchObject({ kind: 'skipped', reason: 'invalid-target', calls: 0 });
    }),
    { numRuns: 400, seed: 6890 },
  );
  console.log(`Private and reserved targets: ${jobs} jobs, ${h.cip.stats().calls} Criminal IP calls`);
  expect(h.cip.stats().calls).toBe(0);
  expect(h.cip.calls).toEqual([]);
});

it('still sends a public address, so the check above can fail', async () => {
  const outcome = await h.run(
    enrichmentJob(h, { type: 'ipv4-addr', value: '89.160.20.112', markingRefs: [] }),
  );
  expect(outcome).toMatchObject({ kind: 'written', calls: 1 });
});
