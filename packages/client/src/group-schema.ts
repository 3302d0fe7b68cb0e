import type { AnswerReader } from './http-attempt.js';

// The answer of `GET /v1/groups/{group}/schema` (docs/api.md section 2.8). Declared here rather
// than imported so that the client depends on the wire format only, never on the framework.

/** One field of an operation's argument class. */
export interface SchemaField {
  /** `string`, `number`, `integer`, `boolean`, `date`, `object`, `array`, `T[]` or `any`. */
  type: string;
  optional: boolean;
  nullable?: boolean;
}

export interface OperationSchema {
  name: string;
  kind: 'command' | 'query';
  /** The argument class's fields; `{}` when the handler's argument is not a class. */
  args: Record<string, SchemaField>;
}

/** The commands and queries a group's state machine declares, each list sorted by name. */
export interface GroupSchema {
  group: string;
  /** The state machine type the group was created with. */
  type: string;
  commands: OperationSchema[];
  queries: OperationSchema[];
}

function isOperationList(value: unknown): value is OperationSchema[] {
  return Array.isArray(value) && value.every((op) => typeof op === 'object' && op !== null && typeof (op as { name?: unknown }).name === 'string');
}

/**
 * Checks the parts of a schema answer the client relies on (names and both lists), so a proxy
 * never routes by a half-read schema.
 */
export const SCHEMA_ANSWER: AnswerReader<GroupSchema> = {
  shape: 'a schema {"group","type","commands","queries"}',
  read(body) {
    if (typeof body !== 'object' || body === null) return undefined;
    const s = body as Partial<Record<keyof GroupSchema, unknown>>;
    if (typeof s.group !== 'string' || typeof s.type !== 'string' || !isOperationList(s.commands) || !isOperationList(s.queries)) return undefined;
    return body as GroupSchema;
  },
};
