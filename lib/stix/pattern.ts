/**
 * STIX patterning for the single-comparison indicators this product emits.
 *
 * Inside a STIX pattern string literal only two escapes exist: `\\` for a backslash and `\'` for
 * a single quote (STIX 2.1 patterning grammar, StringLiteral). Every other character, control
 * characters and any Unicode included, may stand as itself. So escaping those two characters is
 * both necessary and sufficient to keep a hostile value inside its literal: the pattern stays one
 * comparison whatever the value holds, and unescaping gives the value back exactly.
 */
import { hasLoneSurrogate } from './canonical-json';
import type { ObservableStixType } from './core';
import { StixInputError } from './errors';
import { normaliseObservableValue } from './observables';

/** The value ready to sit between single quotes in a STIX pattern. */
export function escapePatternString(value: string): string {
  if (typeof value !== 'string') throw new StixInputError('pattern value', 'must be a string', value);
  // A lone surrogate has no UTF-8 form: the pattern could not be stored or hashed faithfully.
  if (hasLoneSurrogate(value)) {
    throw new StixInputError('pattern value', 'must not hold an unpaired UTF-16 surrogate', value);
  }
  return value.replace(/[\\']/g, (character) => `\\${character}`);
}

/**
 * `[<type>:value = '<escaped value>']`, the form OpenCTI writes for an observable's indicator.
 * The value is normalised as OpenCTI stores it (domain names lower-cased) so that the pattern, and
 * the indicator id hashed from it, name the stored observable. Its format is not judged here: any
 * value OpenCTI holds gets a pattern, and the escaping keeps even a hostile one inert.
 */
export function equalityPattern(type: ObservableStixType, value: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new StixInputError(`${type} pattern value`, 'must be a non-empty string', value);
  }
  return `[${type}:value = '${escapePatternString(normaliseObservableValue(type, value))}']`;
}
