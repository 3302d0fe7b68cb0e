import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { WebSocket, WebSocketServer } from 'ws';
import { EntryType, MessageType } from '../../src/core/types.js';
import { encodeMessages } from '../../src/transport/codec.js';
import type { Envelope } from '../../src/transport/transport.js';
import { peerProofHeaders } from '../../src/transport/peer-credentials.js';
import { WsTransport, HEADER_NODE_ID, HEADER_PROTOCOL, HEADER_TARGET_ID, WIRE_PROTOCOL } from '../../src/transport/ws-transport.js';
import { TOKEN, deadPort, msg, startNode, waitFor, type TestNode } from './helpers.js';

async function pair(optsA = {}, optsB = {}): Promise<[TestNode, TestNode]> {
  const a = await startNode(1, optsA);
  const b = await startNode(2, optsB);
  a.transport.setPeer(2, b.address);
  b.transport.setPeer(1, a.address);
  return [a, b];
}

test('two transports exchange batched rounds in order, every group on one connection', async () => {
  const [a, b] = await pair();
  try {
    const rounds = 200;
    const groups = ['g1', 'g2', 'g3'];
    let seq = 0;
    for (let r = 0; r < rounds; r++) {
      const batch: Envelope[] = [];
      for (let k = 0; k < 6; k++) {
        seq++;
        batch.push({
          group: groups[k % 3]!,
          message: msg({
            type: MessageType.Append,
            from: 1,
            to: 2,
            term: 3,
            index: seq,
            commit: seq,
            entries: [{ term: 3, index: seq + 1, type: EntryType.Normal, data: new Uint8Array([seq & 0xff, r & 0xff]) }],
          }),
        });
      }
      a.transport.send(batch);
      b.transport.send([{ group: 'g1', message: msg({ type: MessageType.AppendResponse, from: 2, to: 1, index: r + 1 }) }]);
      if (r % 50 === 0) await new Promise((res) => setImmediate(res));
    }
    await waitFor(() => b.events.received.length === seq && a.events.received.length === rounds, 5000, 'all messages');
    assert.deepEqual(
      b.events.received.map((x) => x.env.message.commit),
      Array.from({ length: seq }, (_, i) => i + 1),
    );
    assert.ok(b.events.received.every((x) => x.from === 1 && x.env.group === groups[(x.env.message.commit - 1) % 3]));
    assert.deepEqual(b.events.received[10]!.env.message.entries[0]!.data, new Uint8Array([11, 1]));
    assert.deepEqual(
      a.events.received.map((x) => x.env.message.index),
      Array.from({ length: rounds }, (_, i) => i + 1),
    );
    const sa = a.transport.stats();
    const sb = b.transport.stats();
    // One frame per round per peer: each send() was one round.
    assert.equal(sb.framesReceived, rounds);
    assert.equal(sa.messagesSent, seq);
    assert.equal(sb.messagesReceived, seq);
    assert.equal(sa.dials, 1);
    assert.equal(sb.inboundAccepted, 1);
    assert.equal(sa.bytesSent >= sb.bytesReceived, true);
    assert.deepEqual(
      sa.peers.map((p) => [p.id, p.connected]),
      [[2, true]],
    );
  } finally {
    await a.close();
    await b.close();
  }
});

test('events are never raised synchronously inside send(); unknown peers and self are unreachable', async () => {
  const a = await startNode(1);
  try {
    a.transport.send([
      { group: 'g', message: msg({ to: 9 }) },
      { group: 'g', message: msg({ to: 9 }) },
      { group: 'h', message: msg({ to: 1 }) },
      {
        group: 's',
        message: msg({
          to: 9,
          type: MessageType.Snapshot,
          snapshot: {
            metadata: { index: 1, term: 1, confState: { voters: [1], learners: [], votersOutgoing: [], learnersNext: [], witnesses: [], autoLeave: false } },
            data: new Uint8Array(3),
          },
        }),
      },
    ]);
    assert.equal(a.events.unreachable.length, 0);
    await Promise.resolve();
    assert.deepEqual(a.events.unreachable, [
      { group: 'h', to: 1 },
      { group: 's', to: 9 },
      { group: 'g', to: 9 },
    ]);
    assert.deepEqual(a.events.statuses, [{ group: 's', to: 9, ok: false }]);
    assert.equal(a.transport.stats().messagesDropped, 4);
    assert.throws(() => a.transport.setPeer(3, 'not a valid address:::'), TypeError);
    assert.throws(() => a.transport.setPeer(3, 'hostname-without-port'), TypeError);
    assert.throws(() => a.transport.setPeer(3, 'h:70000'), TypeError);
    assert.throws(() => a.transport.setPeer(1, '127.0.0.1:1'), TypeError);
  } finally {
    await a.close();
  }
});

test('a wrong or missing token is refused at the upgrade (401) and logged; other upgrade paths are left alone', async () => {
  const a = await startNode(1);
  const intruder = await startNode(3, { token: 'not-the-token' });
  // Another handler owns /other on the same server.
  const other = new WebSocketServer({ noServer: true });
  a.server.on('upgrade', (req, socket, head) => {
    if (req.url === '/other') other.handleUpgrade(req, socket, head, (ws) => ws.send('hello from other'));
  });
  try {
    intruder.transport.setPeer(1, a.address);
    intruder.transport.send([{ group: 'g', message: msg({ from: 3, to: 1 }) }]);
    await waitFor(() => intruder.events.unreachable.length > 0, 5000, 'the intruder to see node 1 as unreachable');
    assert.equal(a.events.received.length, 0);
    assert.ok(a.transport.stats().inboundRefused >= 1);
    assert.ok(a.logs.some((l) => l.level === 'warn' && l.msg.includes('refused') && (l.obj as { status: number }).status === 401));
    assert.ok(intruder.logs.some((l) => l.level === 'error' && l.msg.includes('401')));

    const statusOf = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`ws://${a.address}/raft`, { headers });
        ws.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          res.resume();
          ws.terminate();
        });
        ws.on('error', () => {});
        ws.on('open', () => reject(new Error('connected without a valid handshake')));
      });
    const base = { [HEADER_NODE_ID]: '7', [HEADER_PROTOCOL]: WIRE_PROTOCOL };
    assert.equal(await statusOf(base), 401);
    assert.equal(await statusOf({ ...base, authorization: 'Bearer wrong' }), 401);
    assert.equal(await statusOf({ ...base, authorization: TOKEN }), 401); // no "Bearer "
    assert.equal(await statusOf({ authorization: `Bearer ${TOKEN}`, [HEADER_PROTOCOL]: WIRE_PROTOCOL }), 400); // no node id
    assert.equal(await statusOf({ authorization: `Bearer ${TOKEN}`, [HEADER_NODE_ID]: '7' }), 400); // no protocol
    assert.equal(await statusOf({ ...base, authorization: `Bearer ${TOKEN}` }), 401); // the token alone does not prove the id
    assert.equal(await statusOf({ ...base, ...peerProofHeaders(TOKEN, 3, 1) }), 401); // a proof for another id
    assert.equal(await statusOf({ ...base, ...peerProofHeaders('another-secret', 7, 1) }), 401); // another cluster's secret
    const proven = { ...base, ...peerProofHeaders(TOKEN, 7, 5), [HEADER_TARGET_ID]: '5' };
    assert.equal(await statusOf(proven), 421); // proven, but misaddressed
    assert.equal(await statusOf(proven), 401); // the same proof again: a replay

    const greeting = await new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(`ws://${a.address}/other`);
      ws.on('message', (d) => {
        resolve(d.toString());
        ws.close();
      });
      ws.on('error', reject);
    });
    assert.equal(greeting, 'hello from other');
  } finally {
    other.close();
    await intruder.close();
    await a.close();
  }
});

test('reconnects after the peer restarts on the same port', async () => {
  const a = await startNode(1);
  let b = await startNode(2);
  const port = b.port;
  try {
    a.transport.setPeer(2, b.address);
    a.transport.send([{ group: 'g', message: msg({ commit: 1 }) }]);
    await waitFor(() => b.events.received.length === 1, 5000, 'first message');
    await b.close();
    // While it is down, sends fail and are reported.
    a.transport.send([{ group: 'g', message: msg({ commit: 2 }) }]);
    await waitFor(() => a.events.unreachable.length > 0, 5000, 'an unreachable report');
    b = await startNode(2, {}, port);
    let n = 3;
    await waitFor(
      () => {
        a.transport.send([{ group: 'g', message: msg({ commit: n++ }) }]);
        return b.events.received.length > 0;
      },
      5000,
      'a message after the restart',
    );
    const commits = b.events.received.map((x) => x.env.message.commit);
    assert.deepEqual(
      commits,
      [...commits].sort((x, y) => x - y),
    );
    const s = a.transport.stats();
    assert.ok(s.reconnects >= 1, `reconnects ${s.reconnects}`);
    assert.ok(s.dials >= 2);
    assert.ok(a.logs.some((l) => l.msg.includes('connection lost')));
  } finally {
    await a.close();
    await b.close();
  }
});

test('the send queue is bounded: when the peer is down messages are dropped and reported', async () => {
  const a = await startNode(1, { maxQueueFrames: 4, maxQueueBytes: 1 << 20 });
  try {
    a.transport.setPeer(2, `127.0.0.1:${await deadPort()}`);
    for (let r = 0; r < 50; r++)
      a.transport.send([
        { group: `g${r % 5}`, message: msg({ commit: r }) },
        { group: 'all', message: msg({ commit: r }) },
      ]);
    const s = a.transport.stats();
    assert.equal(s.peers[0]!.queuedFrames, 4);
    assert.equal(s.messagesDropped, 46 * 2);
    await Promise.resolve();
    // Reported once per group per round.
    assert.equal(a.events.unreachable.length, 46 * 2);
    // Byte bound: one big message fills the queue.
    const big = { group: 'big', message: msg({ type: MessageType.Append, entries: [{ term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array(900_000) }] }) };
    await waitFor(() => a.transport.stats().peers[0]!.queuedFrames === 0, 5000, 'the failed dial to drop the queue');
    a.transport.send([big]);
    a.transport.send([big]);
    assert.equal(a.transport.stats().peers[0]!.queuedFrames, 1);
    await waitFor(() => a.events.unreachable.some((u) => u.group === 'big'), 5000, 'a report for the big message');
    assert.ok(a.transport.stats().connectFailures >= 1);
  } finally {
    await a.close();
  }
});

test('a 20 MB snapshot streams in chunks while another group keeps flowing, and its status is reported', async () => {
  const [a, b] = await pair();
  try {
    const data = new Uint8Array(20 << 20);
    randomFillSync(data, 0, 1 << 20);
    data.copyWithin(1 << 20, 0, 19 << 20); // cheap, non-trivial content
    data[data.length - 1] = 0xab;
    const confState = { voters: [1, 2, 3], learners: [4], votersOutgoing: [], learnersNext: [], witnesses: [], autoLeave: false };
    // Warm the connection up so the stream starts at once.
    a.transport.send([{ group: 'small', message: msg({ commit: 0 }) }]);
    await waitFor(() => b.events.received.length === 1, 5000, 'warm-up');

    const chunksAtSmall: number[] = [];
    b.events.onBatch = (_from, batch) => {
      for (const e of batch) if (e.group === 'small') chunksAtSmall.push(b.transport.stats().snapshotChunksReceived);
    };
    a.transport.send([{ group: 'big', message: msg({ type: MessageType.Snapshot, term: 5, snapshot: { metadata: { index: 1000, term: 4, confState }, data } }) }]);
    let i = 1;
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      const tick = () => {
        if (a.events.statuses.length > 0) return resolve();
        if (Date.now() - started > 8000) return reject(new Error('snapshot did not finish'));
        a.transport.send([{ group: 'small', message: msg({ commit: i++ }) }]);
        setTimeout(tick, 1);
      };
      tick();
    });
    assert.deepEqual(a.events.statuses, [{ group: 'big', to: 2, ok: true }]);
    const snap = b.events.received.find((x) => x.env.group === 'big');
    assert.ok(snap, 'snapshot delivered');
    const m = snap.env.message;
    assert.equal(m.type, MessageType.Snapshot);
    assert.equal(m.term, 5);
    assert.deepEqual(m.snapshot!.metadata, { index: 1000, term: 4, confState });
    assert.equal(m.snapshot!.data.length, data.length);
    assert.ok(Buffer.from(m.snapshot!.data.buffer, m.snapshot!.data.byteOffset, m.snapshot!.data.length).equals(data));
    const chunks = (20 << 20) / (256 << 10);
    assert.equal(b.transport.stats().snapshotChunksReceived, chunks);
    assert.equal(a.transport.stats().snapshotsSent, 1);
    // Interleaving: small messages arrived while the stream was in the middle.
    const during = chunksAtSmall.filter((c) => c > 0 && c < chunks);
    assert.ok(during.length >= 3, `small messages during the stream: ${during.length} (chunk counts seen: ${chunksAtSmall.slice(0, 40).join(',')}...)`);
    // The small group's order is intact.
    const small = b.events.received.filter((x) => x.env.group === 'small').map((x) => x.env.message.commit);
    assert.deepEqual(
      small,
      Array.from({ length: small.length }, (_, k) => k),
    );
  } finally {
    await a.close();
    await b.close();
  }
});

test('a snapshot above the receiver limit is refused and reported as failed; so is one cut by a disconnect', async () => {
  const [a, b] = await pair({}, { maxSnapshotBytes: 4096 });
  try {
    const snapshot = (n: number) => ({
      metadata: { index: 10, term: 2, confState: { voters: [1, 2], learners: [], votersOutgoing: [], learnersNext: [], witnesses: [], autoLeave: false } },
      data: new Uint8Array(n),
    });
    a.transport.send([{ group: 's', message: msg({ type: MessageType.Snapshot, snapshot: snapshot(5000) }) }]);
    await waitFor(() => a.events.statuses.length === 1, 5000, 'status');
    assert.deepEqual(a.events.statuses, [{ group: 's', to: 2, ok: false }]);
    assert.ok(b.logs.some((l) => l.msg.includes('refused a snapshot')));
    // A small one still works on the same connection.
    a.transport.send([{ group: 's', message: msg({ type: MessageType.Snapshot, snapshot: snapshot(4096) }) }]);
    await waitFor(() => a.events.statuses.length === 2, 5000, 'second status');
    assert.deepEqual(a.events.statuses[1], { group: 's', to: 2, ok: true });
    assert.equal(b.events.received.length, 1);
    // Disconnect in the middle of a stream: the sender reports failure.
    b.events.onBatch = () => {};
    a.transport.send([{ group: 't', message: msg({ type: MessageType.Snapshot, snapshot: snapshot(4000) }) }]);
    await b.close();
    await waitFor(() => a.events.statuses.length === 3, 5000, 'third status');
    assert.equal(a.events.statuses[2]!.ok, false);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a malformed frame closes only that connection, with a reason, and the process carries on', async () => {
  const [a, b] = await pair();
  const headers = () => ({ ...peerProofHeaders(TOKEN, 3, undefined), [HEADER_NODE_ID]: '3', [HEADER_PROTOCOL]: WIRE_PROTOCOL });
  const closeOf = (payload: Uint8Array | string) =>
    new Promise<{ code: number; reason: string }>((resolve, reject) => {
      const ws = new WebSocket(`ws://${a.address}/raft`, { headers: headers() });
      ws.on('open', () => ws.send(payload));
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
      ws.on('error', reject);
    });
  try {
    const garbage = await closeOf(new Uint8Array([1, 1, 0xff, 0xff, 0xff]));
    assert.equal(garbage.code, 1008);
    assert.match(garbage.reason, /^malformed frame: /);
    const badVersion = await closeOf(new Uint8Array([7, 1]));
    assert.equal(badVersion.code, 1008);
    assert.match(badVersion.reason, /bad_version/);
    const text = await closeOf('hello');
    assert.equal(text.code, 1003);
    assert.equal(a.transport.stats().protocolErrors, 3);
    assert.ok(a.logs.some((l) => l.level === 'warn' && l.msg.includes('protocol error')));
    assert.equal(a.events.received.length, 0);
    // The legitimate peer is unaffected.
    b.transport.send([{ group: 'g', message: msg({ from: 2, to: 1, commit: 42 }) }]);
    await waitFor(() => a.events.received.length === 1, 5000, 'a message from the good peer');
    assert.equal(a.events.received[0]!.env.message.commit, 42);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a message naming another sender is dropped and counted; the connection that carried it stays up', async () => {
  const [a, b] = await pair();
  const ws = new WebSocket(`ws://${a.address}/raft`, { headers: { ...peerProofHeaders(TOKEN, 3, undefined), [HEADER_NODE_ID]: '3', [HEADER_PROTOCOL]: WIRE_PROTOCOL } });
  let closed = false;
  ws.on('close', () => {
    closed = true;
  });
  try {
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    // Node 3 relays (or forges) messages that name node 2 and node 99 as their senders, then one of its own.
    ws.send(encodeMessages([{ group: 'g', message: msg({ from: 2, to: 1 }) }]));
    ws.send(
      encodeMessages([
        { group: 'g', message: msg({ from: 99, to: 1 }) },
        { group: 'g', message: msg({ from: 3, to: 1, commit: 7 }) },
      ]),
    );
    await waitFor(() => a.events.received.length === 1, 5000, 'the message of the connection itself');
    assert.equal(a.events.received[0]!.env.message.from, 3);
    assert.equal(a.transport.stats().misaddressedDropped, 2);
    assert.equal(a.transport.stats().protocolErrors, 0);
    assert.equal(a.logs.filter((l) => l.msg.includes('naming another sender')).length, 1);
    assert.equal(closed, false);
    assert.equal(ws.readyState, WebSocket.OPEN);
  } finally {
    ws.close();
    await a.close();
    await b.close();
  }
});

test('options are validated and close() is idempotent', async () => {
  const a = await startNode(1);
  assert.throws(() => new WsTransport({ selfId: 0, server: a.server }), TypeError);
  assert.throws(() => new WsTransport({ selfId: 1, server: a.server, token: 'bad token with spaces' }), TypeError);
  assert.throws(() => new WsTransport({ selfId: 1, server: a.server, maxQueueBytes: -1 }), TypeError);
  await a.close();
  await a.transport.close();
  assert.throws(() => a.transport.send([]), /after close/);
});

test('a peer that stops answering pings is dropped and redialled', async () => {
  const a = await startNode(1, { pingIntervalMs: 40 });
  // A fake peer that accepts the upgrade but never answers pings.
  const fake = await startNode(9);
  await fake.transport.close();
  const mute = new WebSocketServer({ noServer: true, autoPong: false });
  let accepted = 0;
  fake.server.on('upgrade', (req, socket, head) => mute.handleUpgrade(req, socket, head, () => accepted++));
  try {
    a.transport.setPeer(2, fake.address);
    // Dials are lazy: keep a Raft-like trickle of sends going.
    await waitFor(
      () => {
        a.transport.send([{ group: 'g', message: msg() }]);
        return accepted >= 2;
      },
      3000,
      'a redial after the dead connection was dropped',
    );
    assert.ok(a.transport.stats().reconnects >= 1);
    assert.ok(a.logs.some((l) => (l.obj as { error?: string }).error === 'no pong from the peer'));
  } finally {
    mute.close();
    await a.close();
    await fake.close();
  }
});

test('setPeer with a new address moves the connection; removePeer fails pending snapshots', async () => {
  const a = await startNode(1);
  const b = await startNode(2);
  try {
    a.transport.setPeer(2, `127.0.0.1:${await deadPort()}`);
    a.transport.send([{ group: 'g', message: msg({ commit: 1 }) }]);
    a.transport.setPeer(2, b.address);
    a.transport.send([{ group: 'g', message: msg({ commit: 2 }) }]);
    await waitFor(() => b.events.received.length > 0, 5000, 'delivery at the new address');
    assert.equal(b.events.received.at(-1)!.env.message.commit, 2);
    a.transport.setPeer(3, `127.0.0.1:${await deadPort()}`);
    const snapshot = {
      metadata: { index: 1, term: 1, confState: { voters: [1], learners: [], votersOutgoing: [], learnersNext: [], witnesses: [], autoLeave: false } },
      data: new Uint8Array(10),
    };
    a.transport.send([{ group: 's', message: msg({ to: 3, type: MessageType.Snapshot, snapshot }) }]);
    a.transport.removePeer(3);
    await Promise.resolve();
    assert.deepEqual(a.events.statuses, [{ group: 's', to: 3, ok: false }]);
    assert.deepEqual(
      a.transport.stats().peers.map((p) => p.id),
      [2],
    );
  } finally {
    await a.close();
    await b.close();
  }
});
