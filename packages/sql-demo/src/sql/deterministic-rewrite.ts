// Replaces each clock read of a statement by the log entry's time, as a literal, so that every
// node computes the same values. Statements that store expressions in the schema are left as they
// are: their expressions run later, and the analysis refuses a 'now' there (CURRENT_* there is
// evaluated by the functions of deterministic-functions.ts, from the entry being applied).
import { shapeOf } from './statement-shape.js';
import { splitTokens } from './statement-splitter.js';
import { sqlString, sqliteTimeTexts, type SqliteTimeTexts } from './sqlite-time.js';
import { timeSources, type TimeSource } from './time-sources.js';
import { isSignificant, tokenize } from './tokenizer.js';

export interface DeterminismOptions {
  /** The leader-stamped time of the log entry, in milliseconds since 1970 UTC. */
  timestampMs: number;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

function editFor(source: TimeSource, texts: SqliteTimeTexts): Edit {
  const now = sqlString(texts.now);
  switch (source.kind) {
    case 'now':
      return { start: source.token.start, end: source.token.end, text: now };
    case 'implied-now':
      return { start: source.close.start, end: source.close.start, text: source.needsComma ? `, ${now}` : now };
    case 'keyword': {
      const value = source.keyword === 'CURRENT_TIMESTAMP' ? texts.timestamp : source.keyword === 'CURRENT_DATE' ? texts.date : texts.time;
      return { start: source.token.start, end: source.token.end, text: sqlString(value) };
    }
  }
}

/** `sql` with its clock reads replaced by the time of `o.timestampMs`; text, strings, identifiers and comments otherwise unchanged. */
export function makeDeterministic(sql: string, o: DeterminismOptions): string {
  const texts = sqliteTimeTexts(o.timestampMs);
  const edits: Edit[] = [];
  for (const statement of splitTokens(sql, tokenize(sql))) {
    const significant = statement.tokens.filter(isSignificant);
    if (shapeOf(significant).storesExpressions) continue;
    for (const source of timeSources(significant)) edits.push(editFor(source, texts));
  }
  let out = sql;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}
