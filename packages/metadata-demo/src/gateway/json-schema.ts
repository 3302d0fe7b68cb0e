// The shape of etcd's messages for the JSON mapping, read from the loaded .proto definitions
// (the same ones the gRPC server uses): each field's proto name and its JSON alias, its kind,
// whether it repeats, its enum's value names, the oneof it belongs to. proto-loader's descriptor
// objects do not say which fields form a oneof, so the four oneofs of etcd's API are listed here
// and checked against the descriptors when the schema is built.
import { enumDefinition, etcdDefinitions, messageDefinition } from '../wire/proto.js';

export type FieldKind = 'int64' | 'uint64' | 'int32' | 'uint32' | 'bool' | 'string' | 'bytes' | 'enum' | 'message';

export interface EnumSchema {
  fullName: string;
  byName: ReadonlyMap<string, number>;
  byNumber: ReadonlyMap<number, string>;
}

export interface FieldSchema {
  /** As in the .proto file (snake_case, or ID/TTL as etcd spells them): what grpc-gateway writes. */
  name: string;
  /** protoc's lowerCamelCase JSON name, also accepted on input (as jsonpb does). */
  jsonName: string;
  kind: FieldKind;
  repeated: boolean;
  enum?: EnumSchema;
  /** The message type's full name, for kind "message". */
  message?: string;
  oneof?: string;
}

export interface MessageSchema {
  fullName: string;
  /** In declaration order, the order grpc-gateway writes them in. */
  fields: readonly FieldSchema[];
  /** By proto name and by JSON name. */
  byName: ReadonlyMap<string, FieldSchema>;
}

/** etcd's oneofs: message → member field → oneof name. */
const ONEOFS: Record<string, Record<string, string>> = {
  'etcdserverpb.RequestOp': { request_range: 'request', request_put: 'request', request_delete_range: 'request', request_txn: 'request' },
  'etcdserverpb.ResponseOp': { response_range: 'response', response_put: 'response', response_delete_range: 'response', response_txn: 'response' },
  'etcdserverpb.Compare': { version: 'target_union', create_revision: 'target_union', mod_revision: 'target_union', value: 'target_union', lease: 'target_union' },
  'etcdserverpb.WatchRequest': { create_request: 'request_union', cancel_request: 'request_union', progress_request: 'request_union' },
};

const SCALARS: Record<string, FieldKind> = {
  TYPE_INT64: 'int64',
  TYPE_UINT64: 'uint64',
  TYPE_INT32: 'int32',
  TYPE_UINT32: 'uint32',
  TYPE_BOOL: 'bool',
  TYPE_STRING: 'string',
  TYPE_BYTES: 'bytes',
  TYPE_ENUM: 'enum',
  TYPE_MESSAGE: 'message',
};

interface Descriptor {
  field?: { name: string; type: string; label: string; typeName: string }[];
  enumType?: EnumDescriptor[];
  oneofDecl?: { name: string }[];
}

interface EnumDescriptor {
  name: string;
  value: { name: string; number: number }[];
}

/** protoc's JSON name: underscores dropped, the letter after each one upper-cased. */
function jsonNameOf(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function enumSchema(fullName: string, d: EnumDescriptor): EnumSchema {
  return {
    fullName,
    byName: new Map(d.value.map((v) => [v.name, v.number])),
    byNumber: new Map(d.value.map((v) => [v.number, v.name])),
  };
}

/** Resolves a field's type name the protobuf way: the message's own scope first, then outwards. */
function resolve(scope: string, typeName: string, own: Descriptor): { message: string } | { enum: EnumSchema } {
  const nested = own.enumType?.find((e) => e.name === typeName);
  if (nested) return { enum: enumSchema(`${scope}.${typeName}`, nested) };
  const parts = scope.split('.');
  for (let i = parts.length; i >= 0; i--) {
    const candidate = [...parts.slice(0, i), typeName].join('.');
    if (messageDefinition(candidate)) return { message: candidate };
    const e = enumDefinition(candidate);
    if (e) return { enum: enumSchema(candidate, e.type as EnumDescriptor) };
  }
  throw new Error(`raftkit-meta: the type ${typeName} used in ${scope} is not defined`);
}

function buildMessage(fullName: string): MessageSchema {
  const def = messageDefinition(fullName);
  if (!def) throw new Error(`raftkit-meta: no message ${fullName} in the proto definitions`);
  const d = def.type as Descriptor;
  const oneofs = ONEOFS[fullName] ?? {};
  const declared = new Set((d.oneofDecl ?? []).map((o) => o.name));
  const listed = new Set(Object.values(oneofs));
  if (declared.size !== listed.size || [...declared].some((n) => !listed.has(n))) {
    throw new Error(`raftkit-meta: the oneofs of ${fullName} (${[...declared].join(', ')}) are not the ones the JSON gateway knows`);
  }
  const fields = (d.field ?? []).map((f): FieldSchema => {
    const kind = SCALARS[f.type];
    if (!kind) throw new Error(`raftkit-meta: ${fullName}.${f.name} has the type ${f.type}, which the JSON gateway does not map`);
    const field: FieldSchema = { name: f.name, jsonName: jsonNameOf(f.name), kind, repeated: f.label === 'LABEL_REPEATED' };
    if (oneofs[f.name]) field.oneof = oneofs[f.name];
    if (kind === 'enum' || kind === 'message') {
      const r = resolve(fullName, f.typeName, d);
      if ('enum' in r) field.enum = r.enum;
      else field.message = r.message;
    }
    return field;
  });
  const byName = new Map<string, FieldSchema>();
  for (const f of fields) {
    byName.set(f.name, f);
    byName.set(f.jsonName, f);
  }
  return { fullName, fields, byName };
}

let schemas: Map<string, MessageSchema> | undefined;

/** Every message of the definitions, built once. */
export function messageSchema(fullName: string): MessageSchema {
  if (!schemas) {
    schemas = new Map();
    for (const [name, d] of Object.entries(etcdDefinitions())) {
      if (d.format === 'Protocol Buffer 3 DescriptorProto') schemas.set(name, buildMessage(name));
    }
  }
  const s = schemas.get(fullName);
  if (!s) throw new Error(`raftkit-meta: no message ${fullName} in the proto definitions`);
  return s;
}
