// The arguments of the SQL machine's commands and queries, checked on the node that proposes
// them, before anything reaches the log: a malformed or refused statement is a 400 naming it.
// Every replica checks an entry's args again as it applies it (the framework converts them).
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  Min,
  Validate,
  ValidatorConstraint,
  type ValidationArguments,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { MAX_LOAD_STATEMENTS, type StatementElement } from './sql-statement.js';
import { checkStatements, statementsProblem, type CheckedStatement, type CheckOptions } from './statement-plan.js';

/** The longest db_timeout taken (an hour): a deadline, not a way to hold the database. */
export const MAX_DB_TIMEOUT_MS = 3_600_000;

/**
 * What a validated args instance's statements were checked as, kept on the instance: the handler
 * plans them without checking again. The instance the framework validates is the one it passes
 * to the handler, on the proposer (prepared args) and on every replica (converted from the
 * entry). A symbol key: invisible to the whitelist, to JSON and to the client's fields. (Not a
 * WeakMap: its entries cost the garbage collector more than the check they save.)
 */
const CHECKED = Symbol('checkedStatements');

interface Checked {
  elements: unknown;
  checked: CheckedStatement[];
}

function checkInto(args: ValidationArguments, o: CheckOptions): boolean {
  let checked: CheckedStatement[];
  try {
    checked = checkStatements(args.value, o);
  } catch {
    return false;
  }
  (args.object as { [CHECKED]?: Checked })[CHECKED] = { elements: args.value, checked };
  return true;
}

/** The statements of validated args as they were checked, or checked now (args that did not come through validation). */
export function checkedStatementsOf(a: { statements: unknown }, o: CheckOptions = {}): CheckedStatement[] {
  const known = (a as { [CHECKED]?: Checked })[CHECKED];
  return known && known.elements === a.statements ? known.checked : checkStatements(a.statements, o);
}

@ValidatorConstraint({ name: 'sqlStatements' })
class SqlStatementsConstraint implements ValidatorConstraintInterface {
  validate(_v: unknown, args: ValidationArguments): boolean {
    return checkInto(args, {});
  }

  defaultMessage(args: ValidationArguments): string {
    return statementsProblem(args.value) ?? 'statements are not valid';
  }
}

/** A dump may be long, and empty (the load of an empty database); its texts do not come again. */
export const DUMP_LIMITS = { maxStatements: MAX_LOAD_STATEMENTS, allowEmpty: true, remember: false };

@ValidatorConstraint({ name: 'sqlDumpStatements' })
class SqlDumpStatementsConstraint implements ValidatorConstraintInterface {
  validate(_v: unknown, args: ValidationArguments): boolean {
    return checkInto(args, DUMP_LIMITS);
  }

  defaultMessage(args: ValidationArguments): string {
    return statementsProblem(args.value, DUMP_LIMITS) ?? 'statements are not valid';
  }
}

/** Statements and how they run; the base of every statement-carrying request. */
export class StatementsArgs {
  /** Each a SQL string, {"sql", "params"?}, or rqlite's ["sql", ...params]. */
  @Validate(SqlStatementsConstraint)
  statements!: StatementElement[];

  /** All statements or none: the first error rolls back the request and ends it. */
  @IsOptional()
  @IsBoolean()
  transaction?: boolean;

  /** Each result carries the seconds its statement took. */
  @IsOptional()
  @IsBoolean()
  timings?: boolean;
}

/** `execute`: writes through the log (rqlite's /db/execute). */
export class ExecuteArgs extends StatementsArgs {}

/** `request`: reads and writes through the log, each statement answered as what it is (rqlite's /db/request). */
export class RequestArgs extends StatementsArgs {
  /** Reads only, through the log (rqlite's level=strong): a write is refused in its place. */
  @IsOptional()
  @IsBoolean()
  readOnly?: boolean;
}

/** `query`: reads of this node's copy. */
export class QueryArgs extends StatementsArgs {
  /** Interrupts the request's statements once they ran this long (milliseconds). */
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(1)
  @Max(MAX_DB_TIMEOUT_MS)
  dbTimeoutMs?: number;
}

/** `probe`: a dry run of a write request on the leader, to refuse it before it is logged when it cannot finish within db_timeout. */
export class ProbeArgs extends StatementsArgs {
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(1)
  @Max(MAX_DB_TIMEOUT_MS)
  dbTimeoutMs!: number;

  /** Which command the request will be proposed as. */
  @IsIn(['execute', 'request'])
  mode!: 'execute' | 'request';
}

/** `load`: the statements of a SQL dump that replace the whole database. */
export class LoadArgs {
  @IsArray()
  @IsString({ each: true })
  @Validate(SqlDumpStatementsConstraint)
  statements!: string[];
}
