/**
 * An Indicator sent for enrichment (manual, playbook) is enriched through the observable its
 * pattern names, when the pattern is one comparison on a supported type:
 * `[ipv4-addr:value = '…']`, and likewise ipv6-addr, domain-name, url, hostname. The enrichment
 * lands on that observable; the Indicator gets the score and a `based-on` link
 * (lib/pipeline/indicator-input.ts). Any other pattern is answered as unsupported.
 */
import type { ObservableEntityType } from '../config';
import { observableId } from '../stix/ids';
import type { StixObject } from '../stix/core';
import { entityTypeOf, normaliseObservable, observableTypeOf } from './observable';
import { quote, rejection } from './rejections';
import { markingRefsOf } from './marking-refs';
import type { Observable } from './types';

/** One comparison `[<type>:value = '<literal>']`; inside the literal only \\ and \' are escapes. */
const SINGLE_COMPARISON = /^\[\s*([a-z0-9-]+)\s*:\s*value\s*=\s*'((?:[^'\\]|\\['\\])*)'\s*\]$/;

export function isIndicatorEntity(object: StixObject, declaredType: string | undefined): boolean {
  return object.type === 'indicator' || declaredType?.toLowerCase() === 'indicator';
}

/** The observable an Indicator's pattern names. Throws JobRejection (unsupported-type, out-of-scope). */
export function observableFromIndicator(
  object: StixObject,
  scope: ReadonlyArray<ObservableEntityType>,
): Observable {
  const pattern = typeof object.pattern === 'string' ? object.pattern.trim() : '';
  const patternType = typeof object.pattern_type === 'string' ? object.pattern_type : 'stix';
  const match = patternType === 'stix' ? SINGLE_COMPARISON.exec(pattern) : null;
  // x-opencti-hostname is pycti's older name of hostname.
  const type = match
    ? observableTypeOf(match[1] === 'x-opencti-hostname' ? 'hostname' : match[1]!)
    : undefined;
  if (!match || !type) {
    throw rejection(
      'unsupported-type',
      `the Indicator's pattern ${quote(pattern)} is not one comparison on the value of an IPv4-Addr, IPv6-Addr, Domain-Name, Hostname or Url`,
    );
  }
  const entityType = entityTypeOf(type);
  if (!scope.includes(entityType)) {
    throw rejection('out-of-scope', `${entityType} is not in CONNECTOR_SCOPE (${scope.join(', ')})`);
  }
  const value = normaliseObservable(type, match[2]!.replace(/\\(['\\])/g, '$1'));
  const markingRefs = markingRefsOf(object);
  return {
    type,
    value,
    stixId: observableId(type, value),
    ...(markingRefs !== undefined ? { markingRefs } : {}),
    indicator: object,
  };
}
