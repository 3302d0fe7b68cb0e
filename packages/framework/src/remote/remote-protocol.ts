// The wire protocol between a node and a state machine that runs in another process (a Python
// machine served by raftkit's Python package): JSON text messages on a WebSocket at
// GET /v1/groups/{group}/machine. The machine speaks first (hello); the node answers welcome, or
// refused and a close. Then the node sends apply/query/snapshot/restore, each with an id, and
// the machine answers each with a result of the same id, strictly in the order received.
import { RaftkitError } from '../common/errors.js';
import type { OperationSchema, SchemaField } from '../fsm/schema.js';

export const REMOTE_PROTOCOL = 1;

/** What a machine declares: its commands and queries with the fields of their arguments. */
export interface MachineDeclaration {
  name: string;
  version: number;
  commands: OperationSchema[];
  queries: OperationSchema[];
}

export interface HelloMessage extends MachineDeclaration {
  type: 'hello';
  protocol: number;
  /** The last entry the machine applied (0: none; its state is the initial one). */
  lastIndex: number;
}

/** A machine's answer to the request of the same id. */
export interface ResultMessage {
  type: 'result';
  id: number;
  index?: number;
  result?: unknown;
  error?: { code: string; message: string; details?: Record<string, unknown> };
  /** The machine was sent an entry that does not follow its last one: a protocol failure. */
  gap?: boolean;
}

/** One command entry as the machine receives it (and as the node keeps it for a replay). */
export interface ApplyEntry {
  readonly index: number;
  readonly term: number;
  /** The leader's clock when it proposed the entry (ms since the epoch): the entry's time. */
  readonly leaderTime: number;
  readonly command: string;
  readonly args: unknown;
}

const FIELD_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'date', 'object', 'array', 'any']);
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

function bad(message: string): RaftkitError {
  return new RaftkitError('bad_request', `bad hello from the machine: ${message}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isFieldType(t: string): boolean {
  return FIELD_TYPES.has(t.endsWith('[]') ? t.slice(0, -2) : t);
}

function operations(v: unknown, kind: 'command' | 'query'): OperationSchema[] {
  if (!Array.isArray(v)) throw bad(`${kind === 'command' ? 'commands' : 'queries'} must be a list`);
  const seen = new Set<string>();
  const out = v.map((o, i): OperationSchema => {
    if (!isRecord(o) || typeof o.name !== 'string' || !OPERATION_NAME.test(o.name)) throw bad(`${kind} ${i} needs a name of letters, digits, _ . - (at most 128)`);
    if (seen.has(o.name)) throw bad(`${kind} "${o.name}" is declared twice`);
    seen.add(o.name);
    const args: Record<string, SchemaField> = {};
    const raw = o.args ?? {};
    if (!isRecord(raw)) throw bad(`the args of ${kind} "${o.name}" must be an object of fields`);
    for (const [field, f] of Object.entries(raw)) {
      if (!isRecord(f) || typeof f.type !== 'string' || !isFieldType(f.type)) throw bad(`field "${field}" of ${kind} "${o.name}" has no known type`);
      args[field] = { type: f.type, optional: f.optional === true, nullable: f.nullable === true };
    }
    return { name: o.name, kind, args };
  });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Parses and checks the machine's first message; RaftkitError 'bad_request' naming the problem. */
export function parseHello(text: string): HelloMessage {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw bad('it is not JSON');
  }
  if (!isRecord(v) || v.type !== 'hello') throw bad('the first message must be {"type":"hello",...}');
  if (v.protocol !== REMOTE_PROTOCOL) throw bad(`protocol ${String(v.protocol)} is not spoken here (this node speaks ${REMOTE_PROTOCOL})`);
  if (typeof v.name !== 'string' || v.name === '') throw bad('name must be a non-empty string');
  if (!Number.isSafeInteger(v.version) || (v.version as number) < 1) throw bad('version must be an integer >= 1');
  if (!Number.isSafeInteger(v.lastIndex) || (v.lastIndex as number) < 0) throw bad('lastIndex must be an integer >= 0');
  const commands = operations(v.commands, 'command');
  const queries = operations(v.queries, 'query');
  const both = commands.find((c) => queries.some((q) => q.name === c.name));
  if (both) throw bad(`"${both.name}" is declared both as a command and as a query`);
  return { type: 'hello', protocol: REMOTE_PROTOCOL, name: v.name, version: v.version as number, lastIndex: v.lastIndex as number, commands, queries };
}

/** Parses an answer of the machine; undefined for anything that is not a result message. */
export function parseResult(text: string): ResultMessage | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(v) || v.type !== 'result' || !Number.isSafeInteger(v.id)) return undefined;
  const msg: ResultMessage = { type: 'result', id: v.id as number };
  if (Number.isSafeInteger(v.index)) msg.index = v.index as number;
  if ('result' in v) msg.result = v.result;
  if (v.gap === true) msg.gap = true;
  if (isRecord(v.error)) {
    const e = v.error;
    msg.error = { code: typeof e.code === 'string' ? e.code : 'command_failed', message: typeof e.message === 'string' ? e.message : 'the machine failed' };
    if (isRecord(e.details)) msg.error.details = e.details;
  }
  return msg;
}

/** Whether two declarations have the same commands and queries (names and argument fields). */
export function sameOperations(a: MachineDeclaration, b: MachineDeclaration): boolean {
  return JSON.stringify([a.commands, a.queries]) === JSON.stringify([b.commands, b.queries]);
}
