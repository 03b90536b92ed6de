/**
 * Secret values that are no credential: what a template, a generated stack or a copied example
 * leaves behind until the operator stores the real one. A route must not accept
 * `Bearer REPLACE_ME` because the secret still holds `REPLACE_ME`: such values count as missing.
 */

/** What the stack writes into the secret until the user stores the real values (infra/). */
export const SECRET_PLACEHOLDER = 'REPLACE_ME';

/** Placeholders seen in templates and examples, compared without case, `-`, `_` or spaces. */
const PLACEHOLDERS = new Set(
  [
    SECRET_PLACEHOLDER,
    'CHANGE_ME',
    'CHANGEME',
    'PLACEHOLDER',
    'TODO',
    'TBD',
    'NONE',
    'NULL',
    'UNDEFINED',
    'XXX',
    'YOUR_TOKEN',
    'YOUR_API_KEY',
    'ChangeMe',
  ].map((value) => squash(value)),
);

function squash(value: string): string {
  return value.toLowerCase().replace(/[\s_-]+/g, '');
}

/** True for an empty value, a known placeholder, or a `<...>` / `${...}` template slot. */
export function isPlaceholderSecret(value: string | undefined | null): boolean {
  if (value === undefined || value === null) return true;
  const trimmed = value.trim();
  if (trimmed === '') return true;
  if (/^<[^<>]*>$/.test(trimmed) || /^\$\{[^{}]*\}$/.test(trimmed)) return true;
  return PLACEHOLDERS.has(squash(trimmed));
}
