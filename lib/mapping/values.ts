/**
 * Validation of the values that become new observables. A value Criminal IP sends that STIX (or
 * OpenCTI) would reject is dropped here, so that one odd field never spoils the whole bundle.
 */
import { domainToASCII } from 'node:url';
import ipaddr from 'ipaddr.js';

export type IpKind = 'ipv4-addr' | 'ipv6-addr';

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
/**
 * Four decimal octets 0-255 without leading zeros: what ipaddr.js's isValidFourPartDecimal
 * accepts, in one test instead of a parse (every host of a report passes here, some many times).
 */
const IPV4_DOTTED = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

/** The STIX type of an IP address, or undefined when `value` is not a plain address. */
export function ipKind(value: string): IpKind | undefined {
  if (IPV4_DOTTED.test(value)) return 'ipv4-addr';
  // Zone ids (fe80::1%eth0) and embedded dots are legal for ipaddr.js but not in OpenCTI values.
  if (/^[0-9a-f:]+$/i.test(value) && value.includes(':') && ipaddr.IPv6.isValid(value)) return 'ipv6-addr';
  return undefined;
}

/** Splits "1.2.3.4:443" or "[2001:db8::1]:443" into the address part. */
export function ipFromHostPort(value: string): string | undefined {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed) return bracketed[1];
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?$/.exec(value);
  if (v4) return v4[1];
  return ipKind(value) ? value : undefined;
}

/**
 * OpenCTI's own syntax check for new Domain-Name and Hostname observables (its `syntax.js`): every label begins and
 * ends with an ASCII letter or digit, with letters, digits and hyphens between, and a domain's last label has at
 * least two characters. OpenCTI refuses anything else ("Observable is not correctly formatted"), and every
 * relationship to it fails with it, so such names never enter a bundle.
 */
const OPENCTI_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export type NameKind = 'domain-name' | 'hostname';

/** A name as OpenCTI will accept it, or why OpenCTI would refuse it. */
export type NameCheck =
  | { ok: true; value: string }
  /** `name` false: the value is no DNS name at all (free text, an address), nothing to tell an analyst about. */
  | { ok: false; value: string; reason: string; name: boolean };

/**
 * A DNS name as OpenCTI stores and accepts it: trimmed, lower case, without the trailing dot, international labels in
 * their punycode form (`bücher.example` → `xn--bcher-kva.example`), not an IP address, no wildcard or underscore.
 */
export function checkName(kind: NameKind, value: string): NameCheck {
  const refuse = (reason: string, name = true): NameCheck => ({ ok: false, value, reason, name });
  const trimmed = value.trim().toLowerCase().replace(/\.$/, '');
  if (trimmed.length === 0 || /[\s\p{Cc}]/u.test(trimmed)) return refuse('it is not a DNS name', false);
  // domainToASCII applies IDNA (UTS #46): it lower-cases, maps and encodes non-ASCII labels, and answers '' for a
  // name no resolver could look up.
  const name = /^[\x21-\x7e]+$/.test(trimmed) ? trimmed : domainToASCII(trimmed);
  if (name === '') return refuse('it is not a valid international name');
  if (name.length > 253) return refuse('it is longer than 253 characters');
  if (ipKind(name)) return refuse('it is an IP address', false);
  const labels = name.split('.');
  const bad = labels.find((label) => !OPENCTI_LABEL.test(label));
  if (bad !== undefined) {
    return refuse(`OpenCTI accepts only labels that begin and end with a letter or digit (label "${bad}")`);
  }
  if (kind === 'domain-name') {
    const last = labels[labels.length - 1] ?? '';
    if (labels.length < 2) return refuse('a domain name has at least two labels');
    if (last.length < 2) return refuse('OpenCTI requires a last label of at least two characters');
    if (/^\d+$/.test(last)) return refuse('its last label is numeric');
  }
  return { ok: true, value: name };
}

/** The domain name as OpenCTI accepts it (see checkName), or undefined. */
export function acceptedDomainName(value: string): string | undefined {
  const checked = checkName('domain-name', value);
  return checked.ok ? checked.value : undefined;
}

/** Does the certificate name (possibly "*.example.com") cover the host? */
export function nameCovers(certificateName: string, host: string): boolean {
  const pattern = certificateName.trim().toLowerCase();
  const target = host.toLowerCase();
  if (pattern === target) return true;
  if (!pattern.startsWith('*.')) return false;
  const suffix = pattern.slice(1);
  return target.endsWith(suffix) && !target.slice(0, -suffix.length).includes('.');
}

// The characters RFC 3986 allows in a URI, which is what the STIX `url` schema checks.
const URI_CHARS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/;

/**
 * An absolute http(s) URL in the form the WHATWG parser writes it, or undefined. Related URLs are
 * new objects, so writing them normalised costs nothing and keeps them valid STIX.
 */
export function httpUrl(value: string): string | undefined {
  // URL.parse answers null where `new URL` throws: most values met here are absent or not URLs,
  // and building an exception (with its stack) cost more than the rest of a lite report's reading.
  const parsed = URL.parse(value.trim());
  if (!parsed) return undefined;
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  if (!parsed.hostname || parsed.username || parsed.password) return undefined;
  const href = parsed.href;
  return href.length <= 2048 && URI_CHARS.test(href) ? href : undefined;
}

/** The host of an http(s) URL, lower case, or undefined. */
export function urlHost(value: string): string | undefined {
  const host = URL.parse(value.trim())?.hostname.toLowerCase();
  return host?.replace(/^\[|\]$/g, '') || undefined;
}

const CVE = /^CVE-\d{4}-(0\d{3}|[1-9]\d{3,})$/;

/** A CVE id in its canonical upper-case form, or undefined. */
export function cveId(value: string): string | undefined {
  const id = value.trim().toUpperCase();
  return CVE.test(id) ? id : undefined;
}

/** An autonomous system number from 15169, "15169" or "AS15169". */
export function asnOf(value: unknown): number | undefined {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  const match = /^(?:AS)?(\d{1,10})$/i.exec(text);
  if (!match) return undefined;
  const n = Number(match[1]);
  return n > 0 && n <= 4294967295 ? n : undefined;
}
