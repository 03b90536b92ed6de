/**
 * Validation of the values that become new observables. A value Criminal IP sends that STIX (or
 * OpenCTI) would reject is dropped here, so that one odd field never spoils the whole bundle.
 */
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

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/**
 * A DNS name as OpenCTI stores it: lower case, no trailing dot, at least two labels, no wildcard,
 * not an IP address. Answers undefined for anything else.
 */
export function domainName(value: string): string | undefined {
  const name = value.trim().toLowerCase().replace(/\.$/, '');
  if (name.length === 0 || name.length > 253 || ipKind(name)) return undefined;
  const labels = name.split('.');
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label))) return undefined;
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) return undefined;
  return name;
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
export function asNumber(value: unknown): number | undefined {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  const match = /^(?:AS)?(\d{1,10})$/i.exec(text);
  if (!match) return undefined;
  const n = Number(match[1]);
  return n > 0 && n <= 4294967295 ? n : undefined;
}
