/**
 * The bench's results: one Figure per measured case, each with its goal and verdict, printed as a
 * table (plain text for a terminal, Markdown for BENCHMARKS.md) or written as JSON.
 */

/** A goal on a figure: at most, at least or exactly `target`. */
export interface Goal {
  op: '<=' | '>=' | '=' | '<';
  target: number;
  /** How the goal reads in the table, e.g. "≤ 2x". */
  text: string;
}

export const atMost = (target: number, text: string): Goal => ({ op: '<=', target, text });
export const atLeast = (target: number, text: string): Goal => ({ op: '>=', target, text });
export const exactly = (target: number, text: string): Goal => ({ op: '=', target, text });
export const below = (target: number, text: string): Goal => ({ op: '<', target, text });

export type Verdict = 'PASS' | 'MISS' | 'INFO';

export interface Figure {
  /** "1. Mapping cost" ... */
  section: string;
  /** What was measured, e.g. "asset_ip_report.json (8.7 KB)". */
  name: string;
  value: number;
  /** The value as shown, e.g. "1.42x", "0.95", "1 call". */
  shown: string;
  /** Undefined for a figure reported without a goal (verdict INFO, not counted in the summary). */
  goal: Goal | undefined;
  /** What else must hold for a PASS (e.g. zero rejected calls); false makes it a MISS. */
  alsoHolds?: boolean;
  /** The baseline and the raw numbers behind the ratio. */
  detail: string;
  /**
   * A reference point, not the product as shipped (e.g. a bundle layout that is not deployed): its
   * verdict is shown in brackets and not counted in the summary.
   */
  reference?: boolean;
}

export function verdictOf(figure: Pick<Figure, 'value' | 'goal' | 'alsoHolds'>): Verdict {
  if (!figure.goal) return 'INFO';
  const { op, target } = figure.goal;
  const met =
    op === '<='
      ? figure.value <= target
      : op === '<'
        ? figure.value < target
        : op === '>='
          ? figure.value >= target
          : figure.value === target;
  return met && figure.alsoHolds !== false ? 'PASS' : 'MISS';
}

const HEADERS = ['Figure', 'Case', 'Result', 'Goal', 'Verdict', 'Baseline and detail'];

function rowsOf(figures: readonly Figure[]): string[][] {
  return figures.map((f) => [
    f.section,
    f.name,
    f.shown,
    f.goal?.text ?? 'none set',
    f.reference && f.goal ? `(${verdictOf(f)})` : verdictOf(f),
    f.detail,
  ]);
}

/** A plain-text table with aligned columns (the detail column is left unpadded). */
export function textTable(figures: readonly Figure[]): string {
  const rows = [HEADERS, ...rowsOf(figures)];
  const widths = HEADERS.map((_, column) =>
    column === HEADERS.length - 1 ? 0 : Math.max(...rows.map((row) => row[column]!.length)),
  );
  const line = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(Math.max(w, 20))).join('  ');
  return [line(HEADERS), rule, ...rows.slice(1).map(line)].join('\n');
}

const escapeCell = (text: string) => text.replaceAll('|', '\\|');

export function markdownTable(figures: readonly Figure[]): string {
  const rows = rowsOf(figures).map((row) => `| ${row.map(escapeCell).join(' | ')} |`);
  return [`| ${HEADERS.join(' | ')} |`, `|${HEADERS.map(() => '---').join('|')}|`, ...rows].join('\n');
}

export function summaryLine(figures: readonly Figure[]): string {
  const counted = figures.filter((f) => !f.reference && f.goal);
  const missed = counted.filter((f) => verdictOf(f) === 'MISS');
  const uncounted = figures.length - counted.length;
  const note = uncounted > 0 ? ` (${uncounted} reference or INFO figures not counted)` : '';
  return missed.length === 0
    ? `All ${counted.length} figures meet their goals${note}.`
    : `${missed.length} of ${counted.length} figures miss their goals${note}: ${missed.map((f) => `${f.section} / ${f.name}`).join('; ')}`;
}
