/**
 * Which labels describe Criminal IP's current verdict, and so go stale when the verdict changes.
 *
 * Two kinds. Prefixed verdict labels (`inbound: …`, `outbound: …`, `domain score: …`,
 * `ip score: …`, `quick verdict: …`) belong to the connector's vocabulary alone: one that the new verdict does not
 * give is stale. State words (`vpn`, `phishing`, `tor`…) describe a current state too, but an
 * analyst may have set the same word: such a word is stale only when the connector itself wrote
 * it last time (the ledger remembers) and the new verdict no longer gives it.
 * Categories and every other label stay additive.
 */
import { ISSUE_LABELS, MALICIOUS_INFO_LABELS } from './labels';

export const VERDICT_PREFIXES = [
  'inbound: ',
  'outbound: ',
  'domain score: ',
  'ip score: ',
  'quick verdict: ',
] as const;

/** Phishing findings of a domain scan (phishing.ts): each says something about the page now. */
const PHISHING_STATE_LABELS = [
  'phishing',
  'credential harvesting',
  'suspicious file',
  'favicon mismatch',
  'look-alike domain',
  'domain in subdomain',
  'fake https',
  'newborn domain',
  'dga',
  'invalid certificate',
  'safe browsing hit',
  'file exposure',
];

export const STATE_LABELS: ReadonlySet<string> = new Set([
  ...Object.values(ISSUE_LABELS),
  ...Object.values(MALICIOUS_INFO_LABELS),
  ...PHISHING_STATE_LABELS,
]);

export function isVerdictLabel(label: string): boolean {
  const value = label.toLowerCase();
  return VERDICT_PREFIXES.some((prefix) => value.startsWith(prefix));
}

/** The labels of a new verdict that describe the current state (what to remember as ours). */
export function stateLabelsOf(labels: readonly string[]): string[] {
  return labels.filter((l) => isVerdictLabel(l) || STATE_LABELS.has(l.toLowerCase()));
}

/**
 * The labels among `current` that the new verdict makes stale: verdict labels it does not give,
 * and state words the connector wrote last time (`ours`) that it no longer gives.
 */
export function staleLabels(
  current: readonly string[],
  next: readonly string[],
  ours: readonly string[],
): string[] {
  const keep = new Set(next.map((l) => l.toLowerCase()));
  const mine = new Set(ours.map((l) => l.toLowerCase()));
  return current.filter((label) => {
    const value = label.toLowerCase();
    if (keep.has(value)) return false;
    return isVerdictLabel(value) || (STATE_LABELS.has(value) && mine.has(value));
  });
}
