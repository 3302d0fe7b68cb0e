#!/usr/bin/env node
// raftkit-kv: one node of the replicated KV store. Every founding node gets the same --peers.
import { runRaftServer } from '@raftkit/framework/server';
import { KvStore } from './kv-store.js';

await runRaftServer({
  name: 'raftkit-kv',
  machines: [KvStore],
  groups: [{ name: 'kv', type: 'kv' }],
  usage: `
The group "kv" holds the store: commands put, delete, cas; queries get, range
(POST /v1/groups/kv/commands/put {"key":"a","value":"1"}).
`,
});
