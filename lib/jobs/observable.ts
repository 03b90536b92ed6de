/**
 * Observable values: what type a bare value is, whether it is valid, and the form it is kept in.
 *
 * Every ingress (listen message, webhook, CLI, sweep) goes through `normaliseObservable`, so a job
 * never carries a value that Criminal IP or the STIX builders would choke on. Validation is about
 * syntax only: a private address or a reserved name is still a valid observable in OpenCTI;
 * whether it may be sent to Criminal IP is decided later (lib/criminalip/targets.ts).
 *
 * The stored form follows what OpenCTI 6.9.17 keeps (docs/opencti.md §11.2, §11.3, §13), because
 * ids are computed from it and must name the object OpenCTI holds:
 * - domain-name: lower-cased (OpenCTI lower-cases it on creation), trailing root dot removed;
 * - hostname: trailing root dot removed, case KEPT: 6.9.17 stores host names as given, so
 *   lower-casing "Web01.Corp.example" would compute the id of an object OpenCTI does not hold;
 * - ipv4-addr: four-part decimal only; a leading zero is refused, not guessed at ("010" is octal to
 *   some tools and decimal to others);
 * - ipv6-addr: validated but kept as given (OpenCTI does not normalise compression or case);
 * - url: kept as given, but it must parse and use http, https or ftp.
 *
 * International names are accepted in Unicode and in punycode (checked on their ASCII form);
 * `toAsciiName` gives the form to send to a DNS-speaking API.
 */
import { domainToASCII } from 'node:url';
import ipaddr from 'ipaddr.js';
import type { ObservableEntityType } from '../config';
import { OBSERVABLE_STIX_TYPES, type ObservableStixType } from '../stix/core';
import { quote, rejection } from './rejections';

export const MAX_URL_LENGTH = 2048;
/** DNS names: 253 characters in their ASCII (punycode) form. */
export const MAX_NAME_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
/** The longest textual IPv6 address (eight groups with an embedded IPv4 tail). */
const MAX_IPV6_LENGTH = 45;

const ENTITY_TYPE: Readonly<Record<ObservableStixType, ObservableEntityType>> = {
  'ipv4-addr': 'IPv4-Addr',
  'ipv6-addr': 'IPv6-Addr',
  'domain-name': 'Domain-Name',
  hostname: 'Hostname',
  url: 'Url',
};

/** Older STIX type names OpenCTI still accepts for its own observable types (pycti). */
const STIX_TYPE_ALIASES: Readonly<Record<string, ObservableStixType>> = {
  'x-opencti-hostname': 'hostname',
};

/** The OpenCTI entity type of an observable STIX type: `ipv4-addr` → `IPv4-Addr`. */
export function entityTypeOf(type: ObservableStixType): ObservableEntityType {
  return ENTITY_TYPE[type];
}

/**
 * The observable STIX type named by `name`, or undefined when it is not one this product enriches.
 * Accepts STIX types (`ipv4-addr`, `x-opencti-hostname`) and OpenCTI entity types (`IPv4-Addr`),
 * in any case: OpenCTI compares scopes case-insensitively, and each entity type lower-cased is
 * exactly its STIX type.
 */
export function observableTypeOf(name: string): ObservableStixType | undefined {
  const lower = name.trim().toLowerCase();
  const direct = OBSERVABLE_STIX_TYPES.find((t) => t === lower);
  return direct ?? STIX_TYPE_ALIASES[lower];
}

/** The STIX type a STIX id starts with (`ipv4-addr--…` → `ipv4-addr`), if it looks like one. */
export function stixTypeOfId(id: string): string | undefined {
  const match = /^([a-z0-9-]+?)--[0-9a-f-]{36}$/i.exec(id);
  return match?.[1]?.toLowerCase();
}

// Unicode white space, C0 and C1 controls, and invisible format characters (zero-width, bidi
// overrides, BOM) that would make a value look like another.
const WHITESPACE = /\s/u;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
const INVISIBLE = /[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/u;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const URL_SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
const ENRICHABLE_URL_SCHEMES = ['http', 'https', 'ftp'];
const IPV4_LIKE = /^\d+(?:\.\d+){3}(?:\/\d+)?$/;
const DOTTED_QUAD = /^\d{1,3}(?:\.\d{1,3}){3}$/;
// At least two colons, hex digits and dots only (an IPv4 tail), optionally a prefix or a zone.
const IPV6_LIKE = /^[0-9a-f.]*:[0-9a-f.]*:[0-9a-f:.]*(?:\/\d+)?(?:%.*)?$/i;
// A DNS name holds none of the characters that give a URL, an e-mail address or an IPv6 its shape.
const NAME_LIKE = /^[^\s/\\:@?#[\]%*]+$/u;
// ASCII label syntax. Host names in the wild (service records, Windows hosts) carry underscores;
// registrable domain names do not (the STIX builders apply the same rule).
const DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i;
const HOST_LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/i;
// A top-level label is letters, or a punycode (xn--) label.
const TOP_LABEL = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/i;

/**
 * Guesses the type of a bare value (the CLI without `--type`, the webhook's minimal form without
 * `type`). Returns undefined when the value fits none; the guess is not a validation.
 *
 * Domain name or host name? Whether a name is registrable needs the public-suffix list
 * (`example.co.uk` is registrable, `www.example.com` is not), and most OpenCTI users store every
 * dotted name, sub-domains included, as Domain-Name. So any name with two labels or more is a
 * `domain-name`, a single-label name (`fileserver`) is a `hostname`, and an explicit type (the CLI
 * `--type hostname`, the entity type in an OpenCTI message) always wins over the guess.
 */
export function inferObservableType(value: string): ObservableStixType | undefined {
  if (value.length === 0 || WHITESPACE.test(value) || CONTROL.test(value)) return undefined;
  if (URL_SCHEME.test(value)) return 'url';
  if (IPV6_LIKE.test(value)) return 'ipv6-addr';
  if (IPV4_LIKE.test(value)) return 'ipv4-addr';
  if (!NAME_LIKE.test(value)) return undefined;
  const labels = value.replace(/\.$/, '').split('.');
  // "1.2.3" is neither a name nor a whole IPv4 address.
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) return undefined;
  return labels.length >= 2 ? 'domain-name' : 'hostname';
}

/** Why a value of any type is unusable, before its type is looked at. */
function commonProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  if (CONTROL.test(value)) return 'contains control characters';
  if (WHITESPACE.test(value)) return 'contains white space';
  if (INVISIBLE.test(value)) return 'contains invisible formatting characters';
  if (LONE_SURROGATE.test(value)) return 'contains a broken Unicode character (lone surrogate)';
  if (value.length > MAX_URL_LENGTH)
    return `is too long (${value.length} characters, at most ${MAX_URL_LENGTH})`;
  return undefined;
}

function ipv4Problem(value: string): string | undefined {
  if (/\/\d*$/.test(value)) return 'is a CIDR range: only single addresses can be enriched';
  if (!DOTTED_QUAD.test(value)) return 'is not a four-part decimal IPv4 address (like 203.0.113.7)';
  const parts = value.split('.');
  if (parts.some((p) => p.length > 1 && p.startsWith('0'))) {
    return 'has a part with a leading zero, which tools read either as octal or as decimal: write it without';
  }
  if (parts.some((p) => Number(p) > 255)) return 'has a part above 255';
  return undefined;
}

function ipv6Problem(value: string): string | undefined {
  if (value.startsWith('[')) return 'is in brackets: give the address alone';
  if (value.includes('%')) return 'has a zone index (%…), which only means something on the local link';
  if (/\/\d*$/.test(value)) return 'is a CIDR range: only single addresses can be enriched';
  if (value.length > MAX_IPV6_LENGTH || !/^[0-9a-f:.]+$/i.test(value) || !ipaddr.IPv6.isValid(value)) {
    return 'is not a valid IPv6 address';
  }
  return undefined;
}

function nameProblem(type: 'domain-name' | 'hostname', value: string): string | undefined {
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  if (name.length === 0) return 'is empty';
  if (name.length > MAX_NAME_LENGTH) {
    return `is too long (${name.length} characters, at most ${MAX_NAME_LENGTH})`;
  }
  if (URL_SCHEME.test(name)) return 'is a URL, not a name';
  if (IPV4_LIKE.test(name) || ipaddr.IPv6.isValid(name)) return 'is an IP address, not a name';
  if (name.includes('*')) return 'is a wildcard pattern: only one name can be enriched';
  const ascii = toAsciiName(name);
  if (ascii === undefined) return 'is not a valid internationalised domain name';
  if (ascii.length > MAX_NAME_LENGTH) {
    return `is too long in its ASCII form (${ascii.length} characters, at most ${MAX_NAME_LENGTH})`;
  }
  const labels = ascii.split('.');
  if (labels.some((l) => l.length === 0)) return 'has an empty label (a leading dot or two dots in a row)';
  if (labels.some((l) => l.length > MAX_LABEL_LENGTH)) {
    return `has a label longer than ${MAX_LABEL_LENGTH} characters`;
  }
  const labelSyntax = type === 'domain-name' ? DOMAIN_LABEL : HOST_LABEL;
  const bad = labels.find((l) => !labelSyntax.test(l));
  if (bad !== undefined) {
    return /^-|-$/.test(bad)
      ? `has the label ${quote(bad)}, which starts or ends with a hyphen`
      : `has the label ${quote(bad)}: labels hold letters, digits and hyphens${type === 'hostname' ? ' (and underscores)' : ''} only`;
  }
  const top = labels[labels.length - 1] ?? '';
  if (/^\d+$/.test(top)) return 'ends with a numeric label, which no name has';
  if (type === 'domain-name') {
    if (labels.length < 2) return 'has a single label: a domain name has at least two (like example.com)';
    if (!TOP_LABEL.test(top)) return `ends with ${quote(top)}, which is not a top-level domain label`;
  }
  return undefined;
}

function urlProblem(value: string): string | undefined {
  const scheme = URL_SCHEME.exec(value)?.[1]?.toLowerCase();
  if (scheme === undefined) return 'must start with http://, https:// or ftp://';
  if (!ENRICHABLE_URL_SCHEMES.includes(scheme)) {
    return `uses the scheme ${scheme}: only http, https and ftp URLs can be enriched`;
  }
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return 'does not parse as a URL';
  }
  if (parsed.hostname.length === 0) return 'has no host';
  return undefined;
}

function problemOf(type: ObservableStixType, value: string): string | undefined {
  const common = commonProblem(value);
  if (common !== undefined) return common;
  switch (type) {
    case 'ipv4-addr':
      return ipv4Problem(value);
    case 'ipv6-addr':
      return ipv6Problem(value);
    case 'domain-name':
    case 'hostname':
      return nameProblem(type, value);
    case 'url':
      return urlProblem(value);
  }
}

/**
 * Throws JobRejection('invalid-value') saying what is wrong with `value` as a `type`, with a hint
 * when the value looks like another type (an IP given as a domain name, say).
 */
export function validateObservable(type: ObservableStixType, value: string): void {
  if (typeof value !== 'string') {
    throw rejection('invalid-value', `${entityTypeOf(type)} value must be a string, got ${typeof value}`);
  }
  const problem = problemOf(type, value);
  if (problem === undefined) return;
  const guess = inferObservableType(value);
  const hint = guess !== undefined && guess !== type && problemOf(guess, value) === undefined;
  throw rejection(
    'invalid-value',
    `${entityTypeOf(type)} ${quote(value)} ${problem}${hint ? ` (it looks like ${guess}, not ${type})` : ''}`,
  );
}

/** Validates `value` and returns the form kept in jobs (see the file comment). Throws JobRejection. */
export function normaliseObservable(type: ObservableStixType, value: string): string {
  validateObservable(type, value);
  switch (type) {
    case 'domain-name':
      return value.replace(/\.$/, '').toLowerCase();
    case 'hostname':
      return value.replace(/\.$/, '');
    default:
      return value;
  }
}

/**
 * Reads a value given with or without its type (the CLI, the webhook's minimal form): infers the
 * type when absent, then validates and normalises. Throws JobRejection.
 */
export function readObservable(
  value: string,
  type?: ObservableStixType,
): { type: ObservableStixType; value: string } {
  const resolved = type ?? inferObservableType(value);
  if (resolved === undefined) {
    const problem = typeof value === 'string' ? commonProblem(value) : undefined;
    throw rejection(
      'invalid-value',
      problem !== undefined
        ? `${quote(value)} ${problem}`
        : `cannot tell the type of ${quote(value)}: give it (one of ${OBSERVABLE_STIX_TYPES.join(', ')})`,
    );
  }
  return { type: resolved, value: normaliseObservable(resolved, value) };
}

/**
 * The ASCII (punycode) form of a DNS name, lower-cased, or undefined when an international name
 * cannot be converted. APIs that speak DNS want this form; jobs keep the form OpenCTI stores.
 */
export function toAsciiName(name: string): string | undefined {
  if (/^[\x21-\x7e]*$/.test(name)) return name.toLowerCase();
  const ascii = domainToASCII(name);
  return ascii === '' ? undefined : ascii;
}
