// The shell's output modes (.mode) and what each is for.

export type OutputMode = 'table' | 'column' | 'line' | 'csv' | 'json';

export const OUTPUT_MODES: Readonly<Record<OutputMode, string>> = {
  table: 'boxed table with a header, as the rqlite shell prints (the default)',
  column: 'aligned columns under a header and a dashed rule, as sqlite3',
  line: 'one "column = value" line per cell, a blank line between rows',
  csv: 'comma-separated values (RFC 4180 quoting), header first',
  json: 'a JSON array of row objects',
};

export function isOutputMode(name: string): name is OutputMode {
  return Object.hasOwn(OUTPUT_MODES, name);
}

/** What every renderer takes besides the rows. */
export interface RenderOptions {
  nullValue: string;
  /** Print the header line in column and csv modes (.headers). */
  headers: boolean;
}
