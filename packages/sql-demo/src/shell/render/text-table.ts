// The two aligned text modes: `table`, boxed like the rqlite shell's, and `column`, sqlite3's
// header over a dashed rule. Numbers are right-aligned.
import type { SqlValue } from '../../client/index.js';
import { cellText, escapeControl, isNumeric } from './cell-text.js';
import { displayWidth, pad } from './display-width.js';
import type { RenderOptions } from './output-mode.js';

interface Grid {
  header: string[];
  rows: { text: string; right: boolean }[][];
  widths: number[];
}

function grid(columns: readonly string[], values: readonly (readonly SqlValue[])[], o: RenderOptions): Grid {
  const header = columns.map(escapeControl);
  const rows = values.map((row) => columns.map((_, i) => ({ text: cellText(row[i] ?? null, o), right: isNumeric(row[i] ?? null) })));
  const widths = header.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i]!.text))));
  return { header, rows, widths };
}

export function renderTable(columns: readonly string[], values: readonly (readonly SqlValue[])[], o: RenderOptions): string {
  const g = grid(columns, values, o);
  const rule = `+${g.widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const line = (cells: { text: string; right: boolean }[]) => `| ${cells.map((c, i) => pad(c.text, g.widths[i]!, c.right ? 'right' : 'left')).join(' | ')} |`;
  const lines = [rule, line(g.header.map((text) => ({ text, right: false }))), rule, ...g.rows.map(line)];
  if (g.rows.length > 0) lines.push(rule);
  return `${lines.join('\n')}\n`;
}

export function renderColumns(columns: readonly string[], values: readonly (readonly SqlValue[])[], o: RenderOptions): string {
  const g = grid(columns, values, o);
  const line = (cells: { text: string; right: boolean }[]) =>
    cells
      .map((c, i) => pad(c.text, g.widths[i]!, c.right ? 'right' : 'left'))
      .join('  ')
      .trimEnd();
  const lines: string[] = [];
  if (o.headers) lines.push(line(g.header.map((text) => ({ text, right: false }))), g.widths.map((w) => '-'.repeat(w)).join('  '));
  lines.push(...g.rows.map(line));
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** sqlite3's line mode: names right-aligned to the longest, a blank line between rows. */
export function renderLines(columns: readonly string[], values: readonly (readonly SqlValue[])[], o: RenderOptions): string {
  const names = columns.map(escapeControl);
  const width = Math.max(0, ...names.map(displayWidth));
  const blocks = values.map((row) => names.map((name, i) => `${pad(name, width, 'right')} = ${cellText(row[i] ?? null, o)}`).join('\n'));
  return blocks.length === 0 ? '' : `${blocks.join('\n\n')}\n`;
}
