// The arguments of the SQL machine's commands and queries, checked on the node that receives
// them, before anything reaches the log: a bad statement list is a 400 naming the statement.
import { IsBoolean, IsOptional, Validate, ValidatorConstraint, type ValidatorConstraintInterface } from 'class-validator';
import type { SqlStatement } from './statement-runner.js';
import { sqlValueProblem } from './sql-value.js';

/** Most statements in one request: one log entry must stay a reasonable size. */
export const MAX_STATEMENTS = 10_000;

/** Why a statement list is not acceptable, naming the first bad statement; undefined when it is. */
export function statementsProblem(v: unknown): string | undefined {
  if (!Array.isArray(v) || v.length === 0) return 'statements must be a non-empty array of {"sql", "params"?}';
  if (v.length > MAX_STATEMENTS) return `a request holds at most ${MAX_STATEMENTS} statements, got ${v.length}`;
  for (let i = 0; i < v.length; i++) {
    const s: unknown = v[i];
    if (typeof s !== 'object' || s === null || Array.isArray(s)) return `statements[${i}] must be an object {"sql", "params"?}`;
    const { sql, params, ...rest } = s as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length > 0) return `statements[${i}] has an unknown property "${extra[0]}"`;
    if (typeof sql !== 'string' || sql.trim() === '') return `statements[${i}].sql must be a non-empty string`;
    if (params === undefined) continue;
    const values = Array.isArray(params) ? params.map((p, j) => [String(j), p] as const) : typeof params === 'object' && params !== null ? Object.entries(params) : undefined;
    if (!values) return `statements[${i}].params must be an array (positional) or an object (named)`;
    for (const [key, p] of values) {
      const problem = sqlValueProblem(p);
      if (problem) return `statements[${i}].params[${Array.isArray(params) ? key : JSON.stringify(key)}]: ${problem}`;
    }
  }
  return undefined;
}

@ValidatorConstraint({ name: 'sqlStatements' })
class SqlStatementsConstraint implements ValidatorConstraintInterface {
  private problem: string | undefined;

  validate(v: unknown): boolean {
    this.problem = statementsProblem(v);
    return this.problem === undefined;
  }

  defaultMessage(): string {
    return this.problem ?? 'statements are not valid';
  }
}

/** A request: its statements, and whether they are applied all or nothing. */
export class SqlRequest {
  @Validate(SqlStatementsConstraint)
  statements!: SqlStatement[];

  @IsOptional()
  @IsBoolean()
  transaction?: boolean;
}
