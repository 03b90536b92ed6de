/**
 * The Criminal IP summary inside an observable's description, without touching what analysts wrote.
 *
 * The summary lives in one section between two markers. The markers are CommonMark link reference
 * definitions (`[//]: # (…)`), which every Markdown renderer, OpenCTI's included, shows as nothing:
 * the analyst sees their text and the summary, never the markers. Each enrichment replaces the
 * section in place, or appends it once after the analyst's text; everything outside the markers is
 * kept byte for byte, so repeated enrichments never grow the description.
 */

export const SUMMARY_START = '[//]: # (criminal-ip summary: start, replaced at each enrichment)';
export const SUMMARY_END = '[//]: # (criminal-ip summary: end)';

/** The delimited section for `summary` (blank lines keep the markers out of the summary's paragraphs). */
export function summarySection(summary: string): string {
  return `${SUMMARY_START}\n\n${summary}\n\n${SUMMARY_END}`;
}

/**
 * The description to write: `current` with its Criminal IP section replaced by (or, when it has
 * none, followed by) the section for `summary`. An empty or absent `current` gives the section alone.
 */
export function mergeDescription(current: string | undefined, summary: string): string {
  const section = summarySection(summary);
  if (current === undefined || current.trim() === '') return section;
  const start = current.indexOf(SUMMARY_START);
  const end = start < 0 ? -1 : current.indexOf(SUMMARY_END, start + SUMMARY_START.length);
  if (start >= 0 && end >= 0) {
    return current.slice(0, start) + section + current.slice(end + SUMMARY_END.length);
  }
  return `${current}\n\n${section}`;
}

/** The analyst's part of a description: everything outside the Criminal IP section. */
export function analystText(description: string): string {
  const start = description.indexOf(SUMMARY_START);
  const end = start < 0 ? -1 : description.indexOf(SUMMARY_END, start + SUMMARY_START.length);
  if (start < 0 || end < 0) return description;
  return description.slice(0, start) + description.slice(end + SUMMARY_END.length);
}
