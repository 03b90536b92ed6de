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

export type Verdict = 'PASS' | 'MISS';

export interface Figure {
  /** "1. Mapping cost" ... */
  section: string;
  /** What was measured, e.g. "asset_ip_report.json (8.7 KB)". */
  name: string;
  value: number;
  /** The value as shown, e.g. "1.42x", "0.95", "1 call". */
  shown: string;
  goal: Goal;
  /** What else must hold for a PASS (e.g. zero rejected calls); false makes it a MISS. */
  alsoHolds?: boolean;
  /** The baseline and the raw numbers behind the ratio. */
  detail: string;
}

export function verdictOf(figure: Pick<Figure, 'value' | 'goal' | 'alsoHolds'>): Verdict {
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
  return figures.map((f) => [f.section, f.name, f.shown, f.goal.text, verdictOf(f), f.detail]);
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
  const missed = figures.filter((f) => verdictOf(f) === 'MISS');
  return missed.length === 0
    ? `All ${figures.length} figures meet their goals.`
    : `${missed.length} of ${figures.length} figures miss their goals: ${missed.map((f) => `${f.section} / ${f.name}`).join('; ')}`;
}
