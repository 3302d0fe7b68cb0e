// A result's rows in the shell's current output mode.
import type { SqlValue } from '../../client/index.js';
import { renderCsv, renderJson } from './data-formats.js';
import type { OutputMode, RenderOptions } from './output-mode.js';
import { renderColumns, renderLines, renderTable } from './text-table.js';

export function renderRows(mode: OutputMode, columns: readonly string[], values: readonly (readonly SqlValue[])[], o: RenderOptions): string {
  switch (mode) {
    case 'table':
      return renderTable(columns, values, o);
    case 'column':
      return renderColumns(columns, values, o);
    case 'line':
      return renderLines(columns, values, o);
    case 'csv':
      return renderCsv(columns, values, o);
    case 'json':
      return renderJson(columns, values);
  }
}
