/**
 * Minimal Markdown writing for the observable's summary.
 *
 * Every value comes from a third party and OpenCTI renders descriptions as Markdown, so text is
 * escaped: a banner or page title must not turn into a link, an image that calls out, or a broken
 * table.
 */

const MAX_CELL = 160;
const WHITE_SPACE = /\s+/g;
/** White space that flattening would change: a run of it, or anything but a plain space. */
const UNFLAT = /\s\s|[^\S ]/;
const MARKDOWN_SYNTAX = /[\\`*_{}[\]()#+!|<>~]/g;

/** Escapes Markdown syntax and flattens white space; long text is shortened with an ellipsis. */
export function mdText(value: string, max = MAX_CELL): string {
  // Most cells hold single spaces only, which the replace would still match and rewrite one by one.
  const flat = (UNFLAT.test(value) ? value.replace(WHITE_SPACE, ' ') : value).trim();
  const short = flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
  return short.replace(MARKDOWN_SYNTAX, '\\$&');
}

/** "critical" → "Critical", for score words in prose. */
export function capitalised(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** Inline code for identifiers (IPs, domains, CVEs); backticks inside are dropped. */
export function mdCode(value: string): string {
  const flat = value.replace(/[`\s]+/g, ' ').trim();
  return `\`${flat.length > MAX_CELL ? `${flat.slice(0, MAX_CELL - 1)}…` : flat}\``;
}

/** `| a | b |`; an empty cell is written as one space, so that the row keeps its shape. */
function tableRow(cells: string[]): string {
  if (cells.length === 0) return '|  |';
  let line = '|';
  for (const cell of cells) line += ` ${cell === '' ? ' ' : cell} |`;
  return line;
}

export function mdTable(headers: string[], rows: string[][]): string {
  // Appended to one string: the summary holds several tables, and arrays per row cost more.
  let text = `| ${headers.join(' | ')} |\n|${headers.length === 0 ? '|' : '---|'.repeat(headers.length)}`;
  for (const row of rows) text += `\n${tableRow(row)}`;
  return text;
}

export function mdList(lines: string[]): string {
  return lines.map((line) => `- ${line}`).join('\n');
}

/** "… and 12 more" when a list was shortened, otherwise nothing. */
export function moreLine(shown: number, total: number): string | undefined {
  return total > shown ? `… and ${total - shown} more` : undefined;
}

/** A titled block of the summary. */
export interface SummarySection {
  title: string;
  body: string;
}

/** Joins a heading line, a key/value table and the sections into one Markdown document. */
export function renderSummary(
  heading: string,
  facts: Array<[string, string]>,
  sections: SummarySection[],
): string {
  const parts = [heading];
  if (facts.length > 0)
    parts.push(
      mdTable(
        ['', ''],
        facts.map(([k, v]) => [`**${k}**`, v]),
      ),
    );
  for (const section of sections) parts.push(`#### ${section.title}\n\n${section.body}`);
  return parts.join('\n\n');
}
