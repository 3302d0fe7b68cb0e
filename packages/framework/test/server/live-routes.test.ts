// The live view's routes on a 3-node cluster of real servers: each group's history checksum in
// /v1/status (equal on every replica), the debug tap (--debug-tap) paging through the messages a
// node sent and received, /v1/debug/cluster gathering every node's status, the token (Bearer, or
// Basic for a browser), and the tap off by default.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRaftServer, type RaftServer } from '../../src/server/raft-server.js';
import type { ServerFlags } from '../../src/server/flags.js';
import { DebugTap } from '../../src/server/debug-tap.js';
import { KvMachine } from '../fsm/machines.js';
import { freePorts } from '../support/ports.js';

const TOKEN = 'live-secret';
const auth = { authorization: `Bearer ${TOKEN}` };

test('the debug tap keeps the latest messages and pages through them', () => {
  const tap = new DebugTap(4);
  const msg = (i: number) => ({ type: 10, from: 1, to: 2, term: i, index: i, logTerm: 0, commit: 0, entries: [], reject: false }) as never;
  for (let i = 1; i <= 3; i++) tap.record('out', i === 2 ? 'b' : 'a', msg(i));
  assert.deepEqual(
    tap.page(0, 10).messages.map((m) => [m.seq, m.type, m.group]),
    [
      [1, 'Append', 'a'],
      [2, 'Append', 'b'],
      [3, 'Append', 'a'],
    ],
  );
  assert.deepEqual(
    tap.page(0, 10, 'a').messages.map((m) => m.seq),
    [1, 3],
  );
  const first = tap.page(0, 2);
  assert.equal(first.next, 2);
  assert.deepEqual(
    tap.page(first.next, 10).messages.map((m) => m.seq),
    [3],
  );
  for (let i = 4; i <= 9; i++) tap.record('in', 'a', msg(i));
  const late = tap.page(3, 10);
  assert.equal(late.missed, true);
  assert.deepEqual(
    late.messages.map((m) => m.seq),
    [6, 7, 8, 9],
  );
  assert.equal(tap.page(9, 10).messages.length, 0);
  assert.equal(tap.page(9, 10).missed, false);
});

test('live routes: history checksums in /v1/status, the tap, the cluster view, the token', async () => {
  const ports = await freePorts(3);
  const peers = new Map(ports.map((p, i) => [i + 1, `127.0.0.1:${p}`]));
  const dirs: string[] = [];
  const servers: RaftServer[] = [];
  const base = (i: number) => `http://127.0.0.1:${ports[i]}`;
  try {
    for (let i = 0; i < 3; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'raftkit-live-'));
      dirs.push(dir);
      const flags: ServerFlags = {
        id: i + 1,
        listen: { host: '127.0.0.1', port: ports[i]! },
        peers,
        join: undefined,
        dataDir: dir,
        token: TOKEN,
        logLevel: 'silent',
        repairTornTail: false,
        help: false,
      };
      // Node 3 runs without the tap: its debug routes are off.
      if (i < 2) flags.debugTap = true;
      servers.push(await startRaftServer({ name: 'live-test', machines: [KvMachine], groups: [{ name: 'kv', type: 'kv' }], flags, host: { tickMs: 10 } }));
    }
    let leader = 0;
    for (let t = 0; t < 300 && !leader; t++) {
      const s = (await (await fetch(`${base(0)}/v1/status`, { headers: auth })).json()) as { groups: Array<{ leader: number }> };
      leader = s.groups[0]!.leader;
      if (!leader) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(leader, 'no leader elected');
    for (let k = 0; k < 5; k++) {
      const r = await fetch(`${base(leader - 1)}/v1/groups/kv/commands/put`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ key: `k${k}`, value: 'v' }),
      });
      assert.equal(r.status, 200, await r.text());
    }
    type H = { from: number; index: number; termChecksum: string; dataChecksum: string };
    const histories = async () =>
      Promise.all(
        [0, 1, 2].map(async (i) => ((await (await fetch(`${base(i)}/v1/status`, { headers: auth })).json()) as { groups: Array<{ history: H; applied: number }> }).groups[0]!),
      );
    let hs = await histories();
    for (let t = 0; t < 200 && new Set(hs.map((g) => g.history.index)).size > 1; t++) {
      await new Promise((r) => setTimeout(r, 20));
      hs = await histories();
    }
    assert.equal(new Set(hs.map((g) => JSON.stringify(g.history))).size, 1, JSON.stringify(hs.map((g) => g.history)));
    assert.match(hs[0]!.history.dataChecksum, /^[0-9a-f]{8}$/);
    assert.equal(hs[0]!.history.index, hs[0]!.applied);

    // The tap: token first, then pages of the messages node 1 sent and received.
    assert.equal((await fetch(`${base(0)}/v1/debug/messages`)).status, 401);
    const page = (await (await fetch(`${base(0)}/v1/debug/messages?after=0&group=kv`, { headers: auth })).json()) as {
      next: number;
      messages: Array<{ type: string; dir: string; group: string }>;
    };
    assert.ok(page.messages.length > 0);
    assert.ok(page.messages.every((m) => m.group === 'kv'));
    assert.ok(page.messages.some((m) => m.dir === 'out') && page.messages.some((m) => m.dir === 'in'));
    assert.ok(page.messages.some((m) => m.type === 'Append' || m.type === 'AppendResponse'));
    const next = (await (await fetch(`${base(0)}/v1/debug/messages?after=${page.next}`, { headers: auth })).json()) as { messages: Array<{ seq: number }> };
    assert.ok(next.messages.every((m) => m.seq > page.next));
    assert.equal((await fetch(`${base(0)}/v1/debug/messages?after=-1`, { headers: auth })).status, 400);
    assert.equal((await fetch(`${base(0)}/v1/debug/messages`, { method: 'POST', headers: auth })).status, 405);

    // A browser's Basic credentials (any user, the token as password) are accepted too.
    const basic = { authorization: `Basic ${Buffer.from(`anyone:${TOKEN}`).toString('base64')}` };
    const cluster = (await (await fetch(`${base(1)}/v1/debug/cluster`, { headers: basic })).json()) as { nodes: Array<{ id: number; status?: { groups: Array<{ history: H }> } }> };
    assert.deepEqual(
      cluster.nodes.map((n) => n.id),
      [1, 2, 3],
    );
    assert.ok(cluster.nodes.every((n) => n.status?.groups[0]?.history.dataChecksum));
    const wrong = { authorization: `Basic ${Buffer.from('anyone:nope').toString('base64')}` };
    assert.equal((await fetch(`${base(1)}/v1/debug/cluster`, { headers: wrong })).status, 401);

    // Off unless enabled.
    const off = await fetch(`${base(2)}/v1/debug/messages`, { headers: auth });
    assert.equal(off.status, 404);
    assert.match(((await off.json()) as { message: string }).message, /--debug-tap/);

    // /ui asks a browser for the token, then sends it to /ui/.
    const ui = await fetch(`${base(2)}/ui/`);
    assert.equal(ui.status, 401);
    assert.match(ui.headers.get('www-authenticate') ?? '', /^Basic realm="raftkit"/);
    const redirect = await fetch(`${base(2)}/ui`, { headers: basic, redirect: 'manual' });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get('location'), '/ui/');
  } finally {
    for (const s of servers) await s.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});
