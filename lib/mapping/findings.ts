/**
 * What a type-specific mapping (IP or domain) hands back to mapIntel, besides the objects it put in
 * the graph: everything that ends up on the observable itself and decides the Indicator.
 */
import type { ExternalReference } from '../stix';
import { LabelSet } from './labels';
import { mdCode, type SummarySection } from './markdown';

export interface Findings {
  /** x_opencti_score for the observable (and the Indicator), when Criminal IP rated it. */
  score?: number;
  labels: LabelSet;
  /** First line of the summary. */
  heading: string;
  /** Key facts, shown as a two-column table at the top of the summary. */
  facts: Array<[string, string]>;
  sections: SummarySection[];
  /**
   * The evidence behind the verdict, 0-100, for the Indicator's `confidence`: the phishing
   * probability of a domain or URL, Criminal IP's score of an IP.
   */
  evidence?: number;
  /** Why an Indicator is created; empty when none is. */
  indicatorReasons: string[];
  externalReference?: ExternalReference;
}

/** Findings that add nothing: the observable is still re-emitted, with a one-line summary. */
export function emptyFindings(value: string): Findings {
  return {
    labels: new LabelSet(),
    heading: `**Criminal IP** data for ${mdCode(value)}`,
    facts: [],
    sections: [],
    indicatorReasons: [],
  };
}
