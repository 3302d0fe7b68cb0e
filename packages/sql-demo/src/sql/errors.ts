// The errors of the SQL analysis layer. Both are RaftkitError 'bad_request': they are the client's
// to fix, and they are raised before anything reaches the log.
import { RaftkitError } from '@raftkit/framework';

/** Text that SQLite's own tokenizer would reject (an unterminated string, a stray character). */
export class SqlSyntaxError extends RaftkitError {
  constructor(
    message: string,
    /** Offset in the text where the bad token starts. */
    readonly offset: number,
  ) {
    super('bad_request', message, { offset });
    this.name = 'SqlSyntaxError';
  }
}

/** A statement the store will not put in its log: which statement, and why. */
export class SqlRefusedError extends RaftkitError {
  constructor(
    readonly statement: string,
    readonly reason: string,
  ) {
    super('bad_request', `refused "${abbreviate(statement)}": ${reason}`, { statement, reason });
    this.name = 'SqlRefusedError';
  }
}

const MAX_QUOTED = 120;

/** A statement short enough to quote in a message. */
export function abbreviate(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length <= MAX_QUOTED ? flat : `${flat.slice(0, MAX_QUOTED - 3)}...`;
}
