// A command-line client of the inventory cluster:
//   node dist/client.js add SKU QTY | remove SKU QTY | stock SKU
// The nodes come from RAFTKIT_ENDPOINTS (comma-separated host:port), by default the three of
// scripts/start-cluster.sh. Any node will do: the client finds the leader itself.
import { RaftClient, RaftClientError } from '@raftkit/client';
import type { Inventory } from './inventory.machine.js';

const endpoints = (process.env.RAFTKIT_ENDPOINTS ?? '127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103').split(',');
const client = new RaftClient({ endpoints, token: process.env.RAFTKIT_TOKEN });
// Typed from the state machine class itself: names, arguments and results are checked by tsc.
const inventory = client.machine<typeof Inventory>('inventory');

async function run(verb: string | undefined, sku: string | undefined, qty: string | undefined) {
  if (verb === 'add' && sku) return inventory.addItem({ sku, qty: Number(qty) });
  if (verb === 'remove' && sku) return inventory.removeItem({ sku, qty: Number(qty) });
  // linearizable: the answer includes every write acknowledged before the read began.
  if (verb === 'stock' && sku) return inventory.stock({ sku }, { consistency: 'linearizable' });
  throw new Error('usage: client.js add SKU QTY | remove SKU QTY | stock SKU');
}

try {
  // The answer: the operation's result and the log index it was applied or read at.
  console.log(JSON.stringify(await run(process.argv[2], process.argv[3], process.argv[4])));
} catch (e) {
  // A refusal names its code and HTTP status: 400 bad_request for bad arguments, 409 conflict for too little stock.
  const reason = e instanceof RaftClientError ? `${e.code} (${e.status ?? 'no answer'}): ${e.message}` : (e as Error).message;
  console.error(reason);
  process.exitCode = 1;
} finally {
  client.close();
}
