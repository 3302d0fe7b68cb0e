#!/usr/bin/env node
// raftkit-meta: one node of the etcd-v3-compatible metadata center. etcd's gRPC API on its own
// port (--grpc-listen), etcd's JSON gateway and raftkit's API on the node's port (--listen).
// Every founding node gets the same --peers.
import 'reflect-metadata';
import { runRaftServer } from '@raftkit/framework/server';
import { metaGatewayRoutes } from './gateway/index.js';
import { startGrpcServer } from './grpc/index.js';
import { MetaMachine } from './machine/meta.machine.js';
import { META_FLAGS_HELP, MetaFlagError, parseMetaFlags } from './meta-flags.js';
import { metaRoutes } from './meta-server.js';

const NAME = 'raftkit-meta';

function fatal(message: string): never {
  process.stderr.write(`${NAME}: ${message}\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseMetaFlags>;
  try {
    parsed = parseMetaFlags(argv);
  } catch (e) {
    if (!(e instanceof MetaFlagError)) throw e;
    fatal(e.message);
  }
  const { flags, rest } = parsed;
  const machines = new Map<string, MetaMachine>();
  await runRaftServer({
    name: NAME,
    argv: rest,
    machines: [MetaMachine],
    groups: [{ name: 'meta', type: 'meta' }],
    // etcd's watches read the store's history table; raftkit's own ring of recent entries (for
    // its /watch API) would hold every entry's args and result in memory, values included.
    recentEntries: 0,
    instantiate: (_cls, group) => {
      const machine = new MetaMachine({ maxRangeBytes: flags.maxRangeBytes });
      machines.set(group, machine);
      return machine;
    },
    routes: metaRoutes({ flags, machine: () => machines.get('meta'), startGrpc: startGrpcServer, gateway: metaGatewayRoutes, onFatal: fatal }),
    usage: `${META_FLAGS_HELP}

The group "meta" holds the store: etcd v3's KV, Lease, Watch, Cluster and Maintenance APIs.
  etcdctl --endpoints http://HOST:GRPC_PORT put greeting hello
  curl -s http://HOST:PORT/v3/kv/range -d '{"key":"Z3JlZXRpbmc="}'
`,
  });
}

await main(process.argv.slice(2));
