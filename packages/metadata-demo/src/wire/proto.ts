// etcd's service and message definitions, loaded at run time from the package's proto folder
// (shipped with the package: package.json "files"). The options fix the wire shape the codec
// works with (wire-types.ts): proto field names, 64-bit integers as decimal strings so ids above
// 2^53 survive, bytes as Buffer, enums as numbers, every field present with its default, and a
// oneof's chosen member named by the oneof's property.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync, type EnumTypeDefinition, type MessageTypeDefinition, type PackageDefinition, type ServiceDefinition } from '@grpc/proto-loader';

export const LOADER_OPTIONS = { keepCase: true, longs: String, enums: Number, bytes: Buffer, defaults: true, oneofs: true } as const;

/** The package's proto folder: found upwards from this module (src/wire or dist/src/wire). */
export function protoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, 'rpc.proto'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`raftkit-meta: the proto folder (proto/rpc.proto) is missing from the package near ${fileURLToPath(import.meta.url)}`);
}

let loaded: PackageDefinition | undefined;

/** etcd's definitions, loaded once. */
export function etcdDefinitions(): PackageDefinition {
  loaded ??= loadSync('rpc.proto', { ...LOADER_OPTIONS, includeDirs: [protoDir()] });
  return loaded;
}

/** The services this package serves, by etcd's short name (etcdserverpb.<name>). */
export const SERVICE_NAMES = ['KV', 'Watch', 'Lease', 'Cluster', 'Maintenance', 'Auth'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export function serviceDefinition(name: ServiceName): ServiceDefinition {
  return etcdDefinitions()[`etcdserverpb.${name}`] as ServiceDefinition;
}

export function messageDefinition(fullName: string): MessageTypeDefinition<object, object> | undefined {
  const d = etcdDefinitions()[fullName];
  return d && d.format === 'Protocol Buffer 3 DescriptorProto' ? (d as MessageTypeDefinition<object, object>) : undefined;
}

export function enumDefinition(fullName: string): EnumTypeDefinition | undefined {
  const d = etcdDefinitions()[fullName];
  return d && d.format === 'Protocol Buffer 3 EnumDescriptorProto' ? (d as EnumTypeDefinition) : undefined;
}
