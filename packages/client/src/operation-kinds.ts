import type { GroupSchema } from './group-schema.js';
import { RaftClientError } from './raft-client-error.js';

export type OperationKind = 'command' | 'query';

/** Waits for a schema read on behalf of one call (its deadline and signal); see CallBudget. */
export type SchemaWait = (read: Promise<GroupSchema>) => Promise<GroupSchema>;

/**
 * Which names of one group are commands and which are queries, from the group's schema. The
 * schema is read once and kept; concurrent callers share one read. A name the kept schema lacks
 * causes one fresh read, since the cluster may have been upgraded since, and only a name the
 * fresh schema lacks too is refused.
 */
export class OperationKinds {
  private schema: GroupSchema | undefined;
  private reading: Promise<GroupSchema> | undefined;

  constructor(
    private readonly group: string,
    private readonly readSchema: () => Promise<GroupSchema>,
  ) {}

  /** The kind of `name`; rejects with `unknown_command` when the group's current schema has no such operation. */
  async kindOf(name: string, wait: SchemaWait): Promise<OperationKind> {
    if (this.schema) {
      const kind = kindIn(this.schema, name);
      if (kind) return kind;
    }
    const fresh = await wait(this.read());
    const kind = kindIn(fresh, name);
    if (kind) return kind;
    throw unknownOperation(this.group, fresh, name);
  }

  /** Drops the kept schema, so the next call reads it again (the server refused a name the schema listed). */
  forget(): void {
    this.schema = undefined;
  }

  /** A read in flight is joined rather than repeated: it started after the kept schema was read, so it is at least as fresh. */
  private read(): Promise<GroupSchema> {
    this.reading ??= this.readSchema()
      .then((schema) => {
        this.schema = schema;
        return schema;
      })
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }
}

function kindIn(schema: GroupSchema, name: string): OperationKind | undefined {
  if (schema.commands.some((op) => op.name === name)) return 'command';
  if (schema.queries.some((op) => op.name === name)) return 'query';
  return undefined;
}

/** The code the server answers an unknown command with, so callers handle both the same way. */
function unknownOperation(group: string, schema: GroupSchema, name: string): RaftClientError {
  const list = (ops: { name: string }[]) => ops.map((op) => op.name).join(', ') || 'none';
  return new RaftClientError(
    'unknown_command',
    `group ${JSON.stringify(group)} (state machine ${JSON.stringify(schema.type)}) has no command or query ${JSON.stringify(name)} (commands: ${list(schema.commands)}; queries: ${list(schema.queries)})`,
    { details: { group, name } },
  );
}
