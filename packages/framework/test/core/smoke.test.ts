import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';
import { Role } from '../../src/core/types.js';

test('three nodes elect one leader and replicate a proposal to all', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  assert.equal(c.get(1).node.role, Role.Leader);
  c.propose(1, 'hello');
  for (const id of [1, 2, 3]) assert.deepEqual(c.data(id), ['hello']);
});

test('elections happen by ticking alone', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.tickAll(40);
  const leaders = [...c.nodes.values()].filter((n) => n.node.role === Role.Leader);
  assert.equal(leaders.length, 1);
});
