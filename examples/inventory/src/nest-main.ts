// The same inventory node as a NestJS application: the node (peers, raftkit's HTTP API, the
// watch) on --listen, and the application's own REST routes on --http. RaftService works on any
// node (a follower forwards to the leader), and raftkit errors come back with their HTTP status.
//   node dist/nest-main.js --id 1 --listen 127.0.0.1:7101 --peers 1=127.0.0.1:7101,... --data-dir data/node1 --http 127.0.0.1:8101
import { Body, Controller, Get, Module, Param, Post } from '@nestjs/common';
import { RaftModule, RaftService, runNestRaftApp } from '@raftkit/framework/nest';
import { Inventory } from './inventory.machine.js';

interface Quantity {
  qty: unknown;
}

@Controller('items')
class ItemsController {
  constructor(private readonly raft: RaftService) {}

  /** POST /items/widget/add {"qty": 3}: the state machine validates the arguments. */
  @Post(':sku/add')
  async add(@Param('sku') sku: string, @Body() body: Quantity): Promise<unknown> {
    return (await this.raft.propose('inventory', 'addItem', { sku, qty: body.qty })).result;
  }

  @Post(':sku/remove')
  async remove(@Param('sku') sku: string, @Body() body: Quantity): Promise<unknown> {
    return (await this.raft.propose('inventory', 'removeItem', { sku, qty: body.qty })).result;
  }

  /** GET /items/widget: a linearizable read, from any node. */
  @Get(':sku')
  async stock(@Param('sku') sku: string): Promise<unknown> {
    return (await this.raft.query('inventory', 'stock', { sku })).result;
  }
}

@Module({
  imports: [RaftModule.forRoot({ groups: [{ name: 'inventory', type: 'inventory' }] }), RaftModule.forFeature([Inventory])],
  controllers: [ItemsController],
})
class AppModule {}

await runNestRaftApp(AppModule, { name: 'inventory-nest' });
