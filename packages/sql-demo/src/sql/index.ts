// The SQL analysis and determinism layer of the SQL store: pure functions over statement text,
// plus the function overrides the machine installs on its SQLite connection.
export { SqlRefusedError, SqlSyntaxError } from './errors.js';
export { tokenize, isSignificant, isWord, type Token, type TokenKind } from './tokenizer.js';
export { splitStatements, type SplitStatement } from './statement-splitter.js';
export {
  acceptStatements,
  analyzeStatement,
  isRefusal,
  WRITE_IN_QUERY,
  type AcceptOptions,
  type AnalysisResult,
  type AnalyzedStatement,
  type StatementAnalysis,
  type StatementRefusal,
} from './statement-analysis.js';
export { READ_ONLY_PRAGMAS, HEADER_PRAGMAS } from './pragma-policy.js';
export { makeDeterministic, type DeterminismOptions } from './deterministic-rewrite.js';
export { sqliteTimeTexts, MIN_TIMESTAMP_MS, MAX_TIMESTAMP_MS, type SqliteTimeTexts } from './sqlite-time.js';
export { DeterministicSource, installDeterministicFunctions, type EntryStamp } from './deterministic-functions.js';
