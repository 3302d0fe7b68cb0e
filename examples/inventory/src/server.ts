// One node of the inventory service: the flags (--id, --listen, --peers or --join, --data-dir,
// --help, ...) are raftkit's shared server flags. Every founding node gets the same --peers.
import { runRaftServer } from '@raftkit/framework';
import { Inventory } from './inventory.machine.js';

await runRaftServer({
  name: 'inventory-server',
  machines: [Inventory],
  groups: [{ name: 'inventory', type: 'inventory' }],
  usage: `
The group "inventory": commands addItem and removeItem ({"sku":"widget","qty":3}), query stock ({"sku":"widget"}).
`,
});
