// The statement policy's verdict on one SQL text, kept by text. Clients repeat the same text with
// new parameters, and the verdict is needed up to three times per entry on the leader (HTTP
// handler, argument validation, apply) and twice on each follower; tokenizing and analyzing a
// 200-parameter INSERT costs more than SQLite's own insert of its rows. The verdict depends on the
// text alone (the entry's time is applied to it later, see statement-plan.ts), so one analysis per
// text per process is enough while the text stays among the recent ones.
import { acceptStatements } from '../sql/index.js';

const SCHEMA_VERBS = /^(CREATE|DROP|ALTER)\b/;
/**
 * ON CONFLICT ROLLBACK / RAISE(ROLLBACK) end SQLite's whole transaction, and a DEFERRABLE INITIALLY
 * DEFERRED foreign key is checked at COMMIT: text naming either must not share a transaction with
 * other entries (engine/entry-transactions.ts). A word in a string or a comment only costs the
 * grouping.
 */
export const TRANSACTION_SENSITIVE = /rollback|deferred/i;

export interface AnalyzedPiece {
  sql: string;
  /** It reads the clock: the entry's time replaces the reads when it is applied. */
  readsClock: boolean;
}

export interface TextAnalysis {
  /** The text's statements, usually one; they run in order as one unit. */
  pieces: readonly AnalyzedPiece[];
  /** 'write' when any of its statements writes. */
  kind: 'read' | 'write';
  /** It creates, drops or alters schema objects. */
  changesSchema: boolean;
  /** It may end SQLite's transaction early or defer a check to COMMIT (TRANSACTION_SENSITIVE). */
  transactionSensitive: boolean;
}

/** Most texts kept, and most characters over all of them: a bound on memory whatever the texts. */
const MAX_TEXTS = 512;
const MAX_CHARS = 4 * 1024 * 1024;
/** Longer texts are analyzed each time: they are rarely repeated (dumps, literal bulk inserts). */
const MAX_CACHED_TEXT = 64 * 1024;

/**
 * Each text's verdicts without and with parameters (the policy looks at them), in two
 * generations: a lookup in `recent` changes nothing (a hit on the hot path is one Map.get), one
 * in `older` moves the text to `recent`, and when `recent` holds half the bound it becomes
 * `older` and the previous `older` is dropped. Texts not used for a generation go.
 */
type Verdicts = [TextAnalysis | undefined, TextAnalysis | undefined];
let recent = new Map<string, Verdicts>();
let older = new Map<string, Verdicts>();
let recentChars = 0;

function keep(sql: string, verdicts: Verdicts): void {
  if (recent.size >= MAX_TEXTS / 2 || recentChars + sql.length > MAX_CHARS / 2) {
    older = recent;
    recent = new Map();
    recentChars = 0;
  }
  recent.set(sql, verdicts);
  recentChars += sql.length;
}

function analyze(sql: string, hasParameters: boolean): TextAnalysis {
  const accepted = acceptStatements(sql, { readOnly: false, hasParameters });
  return {
    pieces: accepted.map((a) => ({ sql: a.sql, readsClock: a.analysis.readsClock })),
    kind: accepted.some((a) => a.analysis.kind === 'write') ? 'write' : 'read',
    changesSchema: accepted.some((a) => SCHEMA_VERBS.test(a.analysis.verb)),
    transactionSensitive: TRANSACTION_SENSITIVE.test(sql),
  };
}

/**
 * The verdict on `sql`; throws as acceptStatements does (SqlRefusedError, SqlSyntaxError). A
 * refused text is not kept, so its error is always built fresh. `remember: false` for texts that
 * will not come again (a dump's statements), which would only push the others out.
 */
export function analyzeText(sql: string, hasParameters: boolean, remember = true): TextAnalysis {
  const slot = hasParameters ? 1 : 0;
  let verdicts = recent.get(sql);
  if (!verdicts) {
    verdicts = older.get(sql);
    if (verdicts) {
      older.delete(sql);
      keep(sql, verdicts);
    }
  }
  const known = verdicts?.[slot];
  if (known) return known;
  const analysis = analyze(sql, hasParameters);
  if (!remember || sql.length > MAX_CACHED_TEXT) return analysis;
  if (verdicts) verdicts[slot] = analysis;
  else keep(sql, slot === 0 ? [analysis, undefined] : [undefined, analysis]);
  return analysis;
}
