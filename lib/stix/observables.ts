/**
 * What an observable value must look like, and the one normalisation OpenCTI applies to it.
 *
 * OpenCTI 6.9.17 stores IP, URL and hostname values exactly as given, but lower-cases domain names
 * when it creates them. Ids and indicator patterns must be computed from the stored form, or they
 * would name an object OpenCTI never holds (docs/opencti.md §11.2, §11.3).
 */
import { isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import type { ObservableEntityType } from '../config';
import { ENTITY_TYPE_OF, type ObservableStixType } from './core';
import { hasLoneSurrogate } from './canonical-json';
import { StixInputError } from './errors';

/** The OpenCTI entity type of a STIX observable type, e.g. `ipv4-addr` → `IPv4-Addr`. */
export function observableEntityType(type: ObservableStixType): ObservableEntityType {
  // ENTITY_TYPE_OF (core.ts) lists exactly the OBSERVABLE_ENTITY_TYPES of lib/config.
  return ENTITY_TYPE_OF[type] as ObservableEntityType;
}

/** The value as OpenCTI stores it: domain names lower-cased, everything else unchanged. */
export function normaliseObservableValue(type: ObservableStixType, value: string): string {
  return type === 'domain-name' ? value.toLowerCase() : value;
}

const IPV4_OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}(?:/(?:3[0-2]|[12]?\\d))?$`);
const IPV6_PREFIX = /^(?:12[0-8]|1[01]\d|[1-9]?\d)$/;
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
// Host names seen in the wild (service records, Windows hosts) also carry underscores.
const HOST_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i;
// Characters no observable value may hold: C0/C1 controls and white space.
const CONTROL_OR_SPACE = /[\s\p{Cc}]/u;

/** A dotted DNS name, international names allowed (checked on their punycode form). */
function isDnsName(value: string, label: RegExp): boolean {
  if (value.length === 0 || value.length > 253 || value.endsWith('.') || CONTROL_OR_SPACE.test(value))
    return false;
  const ascii = /^[\x21-\x7e]+$/.test(value) ? value : domainToASCII(value);
  if (ascii === '' || ascii.length > 253) return false;
  return ascii.split('.').every((part) => label.test(part));
}

function isIpv6Value(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash === -1) return isIPv6(value);
  return isIPv6(value.slice(0, slash)) && IPV6_PREFIX.test(value.slice(slash + 1));
}

function isUrlValue(value: string): boolean {
  return !CONTROL_OR_SPACE.test(value) && URL.canParse(value) && /^[a-z][a-z0-9+.-]*:/i.test(value);
}

/**
 * Whether a value can be emitted as an observable of that type (after normalisation). Mapping
 * code uses it to skip malformed upstream data instead of catching StixInputError.
 */
export function isValidObservableValue(type: ObservableStixType, value: string): boolean {
  if (typeof value !== 'string' || value.length === 0 || hasLoneSurrogate(value)) return false;
  switch (type) {
    case 'ipv4-addr':
      return IPV4.test(value);
    case 'ipv6-addr':
      return isIpv6Value(value);
    case 'domain-name':
      return isDnsName(value, DNS_LABEL);
    case 'hostname':
      return isDnsName(value, HOST_LABEL);
    case 'url':
      return isUrlValue(value);
  }
}

/** Normalises the value and throws StixInputError when it is not a valid value of that type. */
export function checkedObservableValue(type: ObservableStixType, value: string): string {
  const normalised = typeof value === 'string' ? normaliseObservableValue(type, value) : value;
  if (!isValidObservableValue(type, normalised)) {
    throw new StixInputError(`${type} value`, `is not a valid ${type} value`, value);
  }
  return normalised;
}
