// What the user can change during a session (.mode, .timer, .consistency...), with the defaults.
import type { ConsistencyLevel } from '../client/index.js';
import type { OutputMode } from './render/output-mode.js';

export interface ShellSettings {
  mode: OutputMode;
  /** Header lines in column and csv modes. */
  headers: boolean;
  /** How NULL is shown (not in csv or json). */
  nullValue: string;
  timer: boolean;
  /** The read consistency level of every statement (rqlite's `level`). */
  consistency: ConsistencyLevel;
  /** Stop reading non-interactive input at the first error. */
  bail: boolean;
}

export function defaultSettings(): ShellSettings {
  return { mode: 'table', headers: true, nullValue: 'NULL', timer: false, consistency: 'weak', bail: false };
}
