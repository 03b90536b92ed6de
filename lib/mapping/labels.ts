/**
 * Label vocabulary. OpenCTI stores labels lower-cased and creates each new value as an entity, so
 * labels are normalised here (lower case, single spaces, no underscores) and never carry counts or
 * free text: a handful of stable values an analyst can filter on.
 */

/** The ten issue flags of IP reports and suspicious-info, and the label each one gives. */
export const ISSUE_LABELS: Readonly<Record<string, string>> = {
  is_vpn: 'vpn',
  is_proxy: 'proxy',
  is_tor: 'tor',
  is_anonymous_vpn: 'anonymous vpn',
  is_hosting: 'hosting',
  is_cloud: 'cloud',
  is_scanner: 'scanner',
  is_darkweb: 'darkweb',
  is_mobile: 'mobile',
  is_snort: 'ids',
};

/** malicious-info flags. */
export const MALICIOUS_INFO_LABELS: Readonly<Record<string, string>> = {
  is_malicious: 'malicious',
  is_vpn: 'vpn',
  is_anonymous_vpn: 'anonymous vpn',
  can_remote_access: 'remote access',
};

const MAX_LABEL_LENGTH = 50;

/**
 * Normalises a free-form category into a label: lower case, `_` and runs of white space become one
 * space, digits-only or over-long values are refused (they would be ids or counts, not categories).
 */
export function normaliseLabel(value: string): string | undefined {
  const label = value
    .toLowerCase()
    .replace(/[_\s]+/g, ' ')
    .trim();
  if (label === '' || label.length > MAX_LABEL_LENGTH || /^[\d\s.,%:-]+$/.test(label)) return undefined;
  return label;
}

/** An ordered set of labels: first insertion wins, duplicates and unusable values are ignored. */
export class LabelSet {
  private readonly values = new Set<string>();

  add(...values: Array<string | undefined>): this {
    for (const value of values) {
      const label = value === undefined ? undefined : normaliseLabel(value);
      if (label) this.values.add(label);
    }
    return this;
  }

  has(label: string): boolean {
    return this.values.has(label);
  }

  toArray(): string[] {
    return [...this.values];
  }
}
