// End to end: real Raft cores (two groups per host) talking over WsTransports on 127.0.0.1.
// A third host joins late and is caught up with a streamed snapshot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStorage } from '../../src/core/memory-storage.js';
import { RawNode } from '../../src/core/raw-node.js';
import { emptyConfState } from '../../src/core/conf-state.js';
import { EntryType, Role, type NodeId } from '../../src/core/types.js';
import type { Envelope } from '../../src/transport/transport.js';
import { startNode, waitFor, type TestNode } from './helpers.js';

const GROUPS = ['orders', 'users'];
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

class Host {
  readonly groups = new Map<string, { node: RawNode; storage: MemoryStorage; applied: string[]; snapshotData: Uint8Array | null }>();
  readonly snapshotStatuses: { group: string; to: NodeId; ok: boolean }[] = [];

  constructor(
    readonly id: NodeId,
    readonly net: TestNode,
  ) {
    let seed = id * 7919;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
    for (const g of GROUPS) {
      const storage = MemoryStorage.bootstrap({ ...emptyConfState(), voters: [1, 2, 3] });
      this.groups.set(g, { node: new RawNode({ id, electionTick: 10, heartbeatTick: 1, storage, random }), storage, applied: [], snapshotData: null });
    }
    const ev = net.events;
    ev.onBatch = (from, batch) => {
      for (const e of batch) {
        assert.equal(e.message.from, from);
        this.groups.get(e.group)!.node.step(e.message);
      }
      this.process();
    };
    ev.onSnapshotStatus = (group, to, ok) => {
      this.snapshotStatuses.push({ group, to, ok });
      this.groups.get(group)!.node.reportSnapshot(to, ok);
    };
    ev.onUnreachable = (group, to) => this.groups.get(group)!.node.reportUnreachable(to);
  }

  process(): void {
    const out: Envelope[] = [];
    for (const [name, g] of this.groups) {
      while (g.node.hasReady()) {
        const rd = g.node.ready();
        if (rd.snapshot) {
          g.storage.applySnapshot(rd.snapshot);
          g.snapshotData = rd.snapshot.data;
          g.applied = dec(rd.snapshot.data).split(',').filter(Boolean);
        }
        g.storage.append(rd.entries);
        if (rd.hardState) g.storage.setHardState(rd.hardState);
        for (const m of rd.messages) out.push({ group: name, message: m });
        for (const e of rd.committedEntries) if (e.type === EntryType.Normal && e.data.length > 0) g.applied.push(dec(e.data));
        g.node.advance(rd);
      }
    }
    if (out.length > 0) this.net.transport.send(out);
  }

  tick(): void {
    for (const g of this.groups.values()) g.node.tick();
    this.process();
  }
}

test('raft groups elect, replicate and catch a late node up by snapshot over WebSocket', async () => {
  const nets = await Promise.all([startNode(1), startNode(2), startNode(3)]);
  const hosts = nets.map((n, i) => new Host(i + 1, n));
  const [h1, h2, h3] = hosts as [Host, Host, Host];
  for (const a of nets) for (const b of nets) if (a !== b) a.transport.setPeer(b.id, b.address);
  // Node 3 is "down": its transport does not deliver to its raft groups yet.
  const h3Batch = nets[2]!.events.onBatch;
  nets[2]!.events.onBatch = () => {};
  const live = [h1, h2];
  const ticker = setInterval(() => live.forEach((h) => h.tick()), 5);
  try {
    for (const g of GROUPS) h1.groups.get(g)!.node.campaign();
    h1.process();
    await waitFor(() => GROUPS.every((g) => h1.groups.get(g)!.node.role === Role.Leader), 5000, 'node 1 to lead both groups');
    for (let i = 0; i < 30; i++) for (const g of GROUPS) h1.groups.get(g)!.node.propose(enc(`${g}-${i}`));
    h1.process();
    await waitFor(() => GROUPS.every((g) => h2.groups.get(g)!.applied.length === 30), 5000, 'replication to node 2');
    // Compact the leader's log behind a snapshot of its applied state (~1 MB, several chunks).
    for (const g of GROUPS) {
      const grp = h1.groups.get(g)!;
      const last = grp.storage.lastIndex();
      const pad = ','.repeat(1 << 20);
      grp.storage.createSnapshot(last, grp.node.confState(), enc(grp.applied.join(',') + pad));
      grp.storage.compact(last);
    }
    // Node 3 comes up: it can only be caught up by snapshot.
    nets[2]!.events.onBatch = h3Batch;
    live.push(h3);
    await waitFor(() => GROUPS.every((g) => h3.groups.get(g)!.applied.length === 30), 5000, 'node 3 to install the snapshots');
    for (const g of GROUPS) {
      assert.deepEqual(h3.groups.get(g)!.applied, h1.groups.get(g)!.applied);
      assert.equal(h3.groups.get(g)!.snapshotData!.length, h1.groups.get(g)!.storage.snapshot().data.length);
    }
    await waitFor(() => h1.snapshotStatuses.filter((s) => s.ok).length === GROUPS.length, 5000, 'both snapshot acks');
    assert.deepEqual(
      h1.snapshotStatuses
        .filter((s) => s.ok)
        .map((s) => s.group)
        .sort(),
      [...GROUPS].sort(),
    );
    // And it keeps replicating afterwards.
    for (const g of GROUPS) h1.groups.get(g)!.node.propose(enc(`${g}-after`));
    h1.process();
    await waitFor(() => GROUPS.every((g) => h3.groups.get(g)!.applied.at(-1) === `${g}-after`), 5000, 'replication after the snapshot');
    const s1 = nets[0]!.transport.stats();
    assert.ok(s1.snapshotChunksSent >= 8, `chunks ${s1.snapshotChunksSent}`);
    assert.equal(s1.protocolErrors, 0);
  } finally {
    clearInterval(ticker);
    await Promise.all(nets.map((n) => n.close()));
  }
});
