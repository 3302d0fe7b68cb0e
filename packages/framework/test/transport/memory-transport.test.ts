import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, MessageType } from '../../src/core/types.js';
import { MemoryHub, MemoryTransport, memoryAddress } from '../../src/transport/memory-transport.js';
import { Recorder, msg, waitFor } from './helpers.js';

async function cluster(ids: number[], opts: { maxQueueFrames?: number; serialize?: boolean } = {}) {
  const hub = new MemoryHub();
  const nodes = new Map<number, { t: MemoryTransport; ev: Recorder }>();
  for (const id of ids) {
    const t = new MemoryTransport(hub, { selfId: id, ...opts });
    const ev = new Recorder();
    await t.start(ev);
    nodes.set(id, { t, ev });
  }
  for (const a of ids) for (const b of ids) if (a !== b) nodes.get(a)!.t.setPeer(b, memoryAddress(b));
  return { hub, n: (id: number) => nodes.get(id)!, close: () => Promise.all([...nodes.values()].map((x) => x.t.close())) };
}

const snapshotMsg = (from: number, to: number, size: number) =>
  msg({
    type: MessageType.Snapshot,
    from,
    to,
    snapshot: {
      metadata: { index: 5, term: 2, confState: { voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], witnesses: [], autoLeave: false } },
      data: new Uint8Array(size).fill(9),
    },
  });

test('memory transport delivers rounds asynchronously, in order, as copies', async () => {
  const c = await cluster([1, 2, 3]);
  try {
    const data = new Uint8Array([1, 2, 3]);
    for (let r = 1; r <= 100; r++) {
      c.n(1).t.send([
        { group: 'a', message: msg({ from: 1, to: 2, commit: r, type: MessageType.Append, entries: [{ term: 1, index: r, type: EntryType.Normal, data }] }) },
        { group: 'b', message: msg({ from: 1, to: 3, commit: r }) },
      ]);
    }
    assert.equal(c.n(2).ev.received.length, 0); // not synchronous
    await waitFor(() => c.n(2).ev.received.length === 100 && c.n(3).ev.received.length === 100, 5000, 'delivery');
    assert.deepEqual(
      c.n(2).ev.received.map((x) => x.env.message.commit),
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    assert.ok(c.n(2).ev.received.every((x) => x.from === 1 && x.env.group === 'a'));
    const got = c.n(2).ev.received[0]!.env.message.entries[0]!.data;
    assert.deepEqual(got, data);
    assert.notEqual(got, data);
    assert.equal(c.n(2).ev.batches.length, 100); // one delivery per round per peer
    assert.equal(c.n(1).t.stats().messagesSent, 200);
  } finally {
    await c.close();
  }
});

test('memory transport: unknown peers, cut links and closed peers are unreachable; snapshots report status', async () => {
  const c = await cluster([1, 2, 3]);
  try {
    c.n(1).t.send([{ group: 'g', message: msg({ from: 1, to: 9 }) }]);
    c.hub.setLink(1, 2, false);
    c.n(1).t.send([
      { group: 'h', message: msg({ from: 1, to: 2 }) },
      { group: 's', message: snapshotMsg(1, 2, 10) },
    ]);
    assert.equal(c.n(1).ev.unreachable.length, 0);
    await Promise.resolve();
    assert.deepEqual(c.n(1).ev.unreachable, [
      { group: 'g', to: 9 },
      { group: 'h', to: 2 },
      { group: 's', to: 2 },
    ]);
    assert.deepEqual(c.n(1).ev.statuses, [{ group: 's', to: 2, ok: false }]);
    c.hub.setLink(1, 2, true);
    c.n(1).t.send([{ group: 's', message: snapshotMsg(1, 2, 1000) }]);
    await waitFor(() => c.n(1).ev.statuses.length === 2, 5000, 'snapshot status');
    assert.deepEqual(c.n(1).ev.statuses[1], { group: 's', to: 2, ok: true });
    assert.equal(c.n(2).ev.received[0]!.env.message.snapshot!.data.length, 1000);
    // A link cut while a delivery is queued fails it.
    c.n(1).t.send([{ group: 's', message: snapshotMsg(1, 3, 10) }]);
    c.hub.setLink(1, 3, false);
    await waitFor(() => c.n(1).ev.statuses.length === 3, 5000, 'failed status');
    assert.deepEqual(c.n(1).ev.statuses[2], { group: 's', to: 3, ok: false });
    // Closed peers are unreachable.
    await c.n(2).t.close();
    c.n(1).t.send([{ group: 'x', message: msg({ from: 1, to: 2 }) }]);
    await Promise.resolve();
    assert.deepEqual(c.n(1).ev.unreachable.at(-1), { group: 'x', to: 2 });
  } finally {
    await c.close();
  }
});

test('memory transport: the per-link queue is bounded and invalid messages are dropped', async () => {
  const c = await cluster([1, 2], { maxQueueFrames: 3 });
  try {
    for (let r = 0; r < 10; r++) c.n(1).t.send([{ group: 'g', message: msg({ from: 1, to: 2, commit: r }) }]);
    c.n(1).t.send([{ group: 'g', message: msg({ from: 1, to: 2, type: MessageType.Hup }) }]);
    await waitFor(() => c.n(2).ev.received.length === 3, 5000, 'three deliveries');
    assert.equal(c.n(1).t.stats().messagesDropped, 8);
    assert.equal(c.n(1).ev.unreachable.length, 8);
    assert.deepEqual(
      c.n(2).ev.received.map((x) => x.env.message.commit),
      [0, 1, 2],
    );
  } finally {
    await c.close();
  }
});
