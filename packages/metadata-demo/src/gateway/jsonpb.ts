// etcd's messages as JSON, the way etcd 3.4's gateway (grpc-gateway v1's jsonpb, OrigName,
// EmitDefaults off) writes and reads them: field names as in the .proto (the lowerCamelCase JSON
// name is accepted too), 64-bit integers as decimal strings (numbers accepted), bytes as standard
// padded base64, enums by name (numbers accepted), zero values and empty lists left out, null
// read as absent. Unlike etcd, which ignores them, unknown fields are refused: a misspelt
// "range_end" would otherwise turn a range delete into a single-key one.
import { messageSchema, type FieldSchema } from './json-schema.js';

/** A request the JSON mapping cannot read: answered 400 with the message. */
export class JsonRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonRequestError';
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DECIMAL = /^-?(?:0|[1-9]\d*)$/;
const RANGES: Record<string, [bigint, bigint]> = {
  int64: [-(1n << 63n), (1n << 63n) - 1n],
  uint64: [0n, (1n << 64n) - 1n],
  int32: [-(1n << 31n), (1n << 31n) - 1n],
  uint32: [0n, (1n << 32n) - 1n],
};

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function integer(v: unknown, kind: string, where: string): bigint {
  const text = typeof v === 'string' ? v : typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : undefined;
  if (text === undefined || !DECIMAL.test(text)) {
    const hint = typeof v === 'number' && Number.isInteger(v) ? ' (beyond 2^53: send it as a string)' : '';
    throw new JsonRequestError(`${where}: expected an ${kind} (an integer or a decimal string), got ${describe(v)}${hint}`);
  }
  const n = BigInt(text);
  const [min, max] = RANGES[kind]!;
  if (n < min || n > max) throw new JsonRequestError(`${where}: ${text} is out of range for an ${kind}`);
  return n;
}

function parseValue(f: FieldSchema, v: unknown, where: string): unknown {
  switch (f.kind) {
    case 'int64':
    case 'uint64':
      return integer(v, f.kind, where).toString();
    case 'int32':
    case 'uint32':
      return Number(integer(v, f.kind, where));
    case 'bool':
      if (typeof v !== 'boolean') throw new JsonRequestError(`${where}: expected true or false, got ${describe(v)}`);
      return v;
    case 'string':
      if (typeof v !== 'string') throw new JsonRequestError(`${where}: expected a string, got ${describe(v)}`);
      return v;
    case 'bytes':
      if (typeof v !== 'string' || !BASE64.test(v)) throw new JsonRequestError(`${where}: expected bytes as standard base64 (with padding), got ${describe(v)}`);
      return Buffer.from(v, 'base64');
    case 'enum': {
      const e = f.enum!;
      if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
      const n = typeof v === 'string' ? e.byName.get(v) : undefined;
      if (n === undefined) throw new JsonRequestError(`${where}: unknown value ${describe(v)} for the enum ${e.fullName} (one of ${[...e.byName.keys()].join(', ')})`);
      return n;
    }
    case 'message':
      return parseMessage(f.message!, v, where);
  }
}

/**
 * A JSON value as the message `fullName`, in the wire shape (wire-types.ts) without defaults.
 * Throws JsonRequestError naming the offending field.
 */
export function parseMessage(fullName: string, json: unknown, where = ''): Record<string, unknown> {
  const schema = messageSchema(fullName);
  const at = where ? `${where}: ` : '';
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new JsonRequestError(`${at}expected a JSON object for ${fullName}, got ${describe(json)}`);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(json)) {
    const f = schema.byName.get(key);
    if (!f) throw new JsonRequestError(`${at}unknown field "${key}" in ${fullName}`);
    if (v === null) continue;
    const path = where ? `${where}.${f.name}` : f.name;
    if (f.repeated) {
      if (!Array.isArray(v)) throw new JsonRequestError(`${path}: expected an array, got ${describe(v)}`);
      out[f.name] = v.map((item, i) => parseValue(f, item, `${path}[${i}]`));
    } else {
      out[f.name] = parseValue(f, v, path);
    }
    if (f.oneof) {
      const chosen = out[f.oneof];
      if (typeof chosen === 'string' && chosen !== f.name)
        throw new JsonRequestError(`${at}"${chosen}" and "${f.name}" are alternatives (oneof ${f.oneof} of ${fullName}); send one`);
      out[f.oneof] = f.name;
    }
  }
  return out;
}

function isDefault(f: FieldSchema, v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (f.oneof) return false;
  switch (f.kind) {
    case 'int64':
    case 'uint64':
    case 'int32':
    case 'uint32':
      return String(v) === '0';
    case 'bool':
      return v === false;
    case 'string':
      return v === '';
    case 'bytes':
      return (v as Buffer).length === 0;
    case 'enum':
      return v === 0;
    case 'message':
      return false;
  }
}

function marshalValue(f: FieldSchema, v: unknown): unknown {
  switch (f.kind) {
    case 'int64':
    case 'uint64':
      return String(v);
    case 'int32':
    case 'uint32':
      return Number(v);
    case 'bytes':
      return (v as Buffer).toString('base64');
    case 'enum':
      return f.enum!.byNumber.get(v as number) ?? v;
    case 'message':
      return marshalMessage(f.message!, v as object);
    default:
      return v;
  }
}

/** A message in the wire shape as grpc-gateway writes it (a plain object for JSON.stringify). */
export function marshalMessage(fullName: string, message: object): Record<string, unknown> {
  const schema = messageSchema(fullName);
  const src = message as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of schema.fields) {
    const v = src[f.name];
    if (f.repeated) {
      if (Array.isArray(v) && v.length > 0) out[f.name] = v.map((item) => marshalValue(f, item));
    } else if (!isDefault(f, v)) {
      out[f.name] = marshalValue(f, v);
    }
  }
  return out;
}
