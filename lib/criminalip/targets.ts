/**
 * Which targets may be sent to Criminal IP at all. Non-global addresses (private, loopback,
 * link-local, documentation, ...) and special-use names cannot have public intel: asking would
 * spend a credit for an "Invalid IP Address." answer. The pipeline and the client both check here
 * first, so such targets never leave the process.
 */
import { domainToASCII } from 'node:url';
import ipaddr from 'ipaddr.js';
import type { ObservableStixType } from '../stix/core';
import { InvalidTargetError } from './errors';

/** IPv6 global unicast space (RFC 4291 2000::/3): everything else is special or unassigned. */
const IPV6_GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');

/** Names reserved for local or test use (RFC 2606, RFC 6761, RFC 6762, RFC 8375, RFC 9476). */
const SPECIAL_USE_SUFFIXES = [
  'localhost',
  'local',
  'internal',
  'test',
  'example',
  'invalid',
  'onion',
  'alt',
  'arpa',
];

/**
 * Why `ip` is not a globally routable address, or undefined when it is. IPv4 must be written in
 * the usual four-part decimal form: "127.1" or "0x7f.0.0.1" are refused rather than guessed at.
 */
export function nonPublicReason(ip: string): string | undefined {
  const value = ip.trim();
  if (ipaddr.IPv4.isValidFourPartDecimal(value)) {
    const range = ipaddr.IPv4.parse(value).range();
    return range === 'unicast' ? undefined : `${range} IPv4 address`;
  }
  if (!value.includes('%') && ipaddr.IPv6.isValid(value)) {
    const address = ipaddr.IPv6.parse(value);
    const range = address.range();
    if (range !== 'unicast') return `${range} IPv6 address`;
    return address.match(IPV6_GLOBAL_UNICAST) ? undefined : 'IPv6 address outside global unicast space';
  }
  return 'not an IP address';
}

/** True for a single, globally routable IPv4 or IPv6 address. */
export function isPublicIp(ip: string): boolean {
  return nonPublicReason(ip) === undefined;
}

/** Why `name` cannot be scanned as a public domain, or undefined when it can. */
function nonPublicDomainReason(name: string): string | undefined {
  // OpenCTI may store an internationalised name in Unicode: judge (and send) its punycode form.
  const host = domainToASCII(name.trim().replace(/\.$/, '')) || name.trim().toLowerCase();
  if (host.length === 0 || host.length > 253) return 'not a domain name';
  if (ipaddr.isValid(host) || ipaddr.IPv4.isValidFourPartDecimal(host)) {
    return 'an IP address, not a domain name';
  }
  const labels = host.split('.');
  if (labels.length < 2) return 'a single-label name is not a public domain';
  if (!labels.every((l) => /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/.test(l) || /^xn--[a-z0-9-]{1,59}$/.test(l))) {
    return 'not a valid domain name';
  }
  const special = SPECIAL_USE_SUFFIXES.find((s) => host === s || host.endsWith(`.${s}`));
  return special ? `special-use name (.${special})` : undefined;
}

/** Why `url` cannot be scanned, or undefined when it can. Only http(s) URLs to public hosts. */
function nonPublicUrlReason(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return 'not a valid URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `unsupported URL scheme ${parsed.protocol.replace(/:$/, '')}`;
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (ipaddr.isValid(host)) return nonPublicReason(ipaddr.process(host).toString());
  return nonPublicDomainReason(host);
}

/** Why this observable cannot be sent to Criminal IP, or undefined when it can. */
export function targetRejection(type: ObservableStixType, value: string): string | undefined {
  switch (type) {
    case 'ipv4-addr':
      if (!ipaddr.IPv4.isValidFourPartDecimal(value.trim())) {
        return value.includes('/') ? 'a CIDR range, not a single address' : 'not an IPv4 address';
      }
      return nonPublicReason(value);
    case 'ipv6-addr':
      if (!ipaddr.IPv6.isValid(value.trim())) {
        return value.includes('/') ? 'a CIDR range, not a single address' : 'not an IPv6 address';
      }
      return nonPublicReason(value);
    case 'domain-name':
    case 'hostname':
      return nonPublicDomainReason(value);
    case 'url':
      return nonPublicUrlReason(value);
  }
}

/**
 * Throws InvalidTargetError when Criminal IP cannot have intel on this observable, so that no
 * credit is spent on it. Call it before any request.
 */
export function assertPublicTarget(type: ObservableStixType, value: string): void {
  const reason = targetRejection(type, value);
  if (reason !== undefined) throw new InvalidTargetError(`${type} refused before any call: ${reason}`);
}
