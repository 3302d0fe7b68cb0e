// The interactive shell's history, kept between sessions in ~/.raftkit_sql_history (one entry a
// line, oldest first, as sqlite3 and rqlite keep theirs). RAFTKIT_SQL_HISTORY names another file,
// or turns history off when set empty. A file that cannot be read or written costs the history,
// never the session.
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const HISTORY_ENV = 'RAFTKIT_SQL_HISTORY';
export const HISTORY_FILE_NAME = '.raftkit_sql_history';
export const HISTORY_SIZE = 1000;

/** The history file to use, or undefined for none. */
export function historyPath(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const configured = env[HISTORY_ENV];
  if (configured !== undefined) return configured.trim() === '' ? undefined : configured;
  return join(homedir(), HISTORY_FILE_NAME);
}

/** The saved entries, newest first (the order node:readline keeps its history in). */
export function loadHistory(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-HISTORY_SIZE)
    .reverse();
}

/** Writes `newestFirst` (readline's history) to the file, oldest first, readable by its owner only. */
export function saveHistory(path: string, newestFirst: readonly string[]): void {
  const lines = newestFirst.slice(0, HISTORY_SIZE).reverse();
  try {
    writeFileSync(path, lines.length === 0 ? '' : `${lines.join('\n')}\n`, { mode: 0o600 });
  } catch {
    // No history file (read-only home, a directory in the way): the session goes on without it.
  }
}
