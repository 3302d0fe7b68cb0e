// The gRPC server driven by etcd's own CLI (etcdctl 3.4), over the fake backend: the commands an
// operator runs, with their output as etcdctl prints it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeGrpc, type GrpcHarness } from '../support/api-harness.js';
import { etcdctl, etcdctlPath, spawnEtcdctl } from '../support/etcdctl.js';

describe('gRPC server with etcdctl', () => {
  let h: GrpcHarness;
  const ok = async (args: string[], input?: string) => {
    const r = await etcdctl(h.port, args, input === undefined ? {} : { input });
    assert.equal(r.code, 0, `etcdctl ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    etcdctlPath();
    h = await startFakeGrpc();
  });

  after(async () => {
    await h.close();
  });

  it('puts and gets keys: --prefix, --limit, --keys-only, --rev, -w json', async () => {
    assert.equal(await ok(['put', 'dir/a', '1']), 'OK\n');
    assert.equal(await ok(['put', 'dir/b', '2']), 'OK\n');
    assert.equal(await ok(['put', 'dir/a', '3']), 'OK\n');
    assert.equal(await ok(['get', 'dir/', '--prefix']), 'dir/a\n3\ndir/b\n2\n');
    assert.equal(await ok(['get', 'dir/', '--prefix', '--limit', '1']), 'dir/a\n3\n');
    assert.equal(await ok(['get', 'dir/', '--prefix', '--keys-only']), 'dir/a\n\ndir/b\n\n');
    assert.equal(await ok(['get', 'dir/a', '--rev', '2']), 'dir/a\n1\n');
    const json = JSON.parse(await ok(['get', 'dir/', '--prefix', '--limit', '1', '-w', 'json'])) as Record<string, unknown>;
    assert.equal(json.count, 2);
    assert.equal(json.more, true);
    assert.deepEqual(
      (json.kvs as { key: string }[]).map((kv) => Buffer.from(kv.key, 'base64').toString()),
      ['dir/a'],
    );
  });

  it('deletes and reports how many', async () => {
    await ok(['put', 'del/a', 'x']);
    await ok(['put', 'del/b', 'y']);
    assert.equal(await ok(['del', 'del/', '--prefix']), '2\n');
    assert.equal(await ok(['get', 'del/', '--prefix']), '');
  });

  it('runs an interactive txn from stdin', async () => {
    await ok(['put', 'tx/k', 'before']);
    const script = 'value("tx/k") = "before"\n\nput tx/k after\nput tx/other o\n\nput tx/k failed\n\n';
    assert.equal(await ok(['txn', '-i'], script), 'compares:\nsuccess requests (get, put, del):\nfailure requests (get, put, del):\nSUCCESS\n\nOK\n\nOK\n');
    assert.equal(await ok(['get', 'tx/k']), 'tx/k\nafter\n');
    const failing = 'mod("tx/k") < "1"\n\nput tx/k no\n\nget tx/k\n\n';
    assert.match(await ok(['txn', '-i'], failing), /FAILURE\n\ntx\/k\nafter\n$/);
  });

  it('watches a prefix from a revision with previous values', async () => {
    const first = JSON.parse(await ok(['put', 'wp/a', 'one', '-w', 'json'])) as { header: { revision: number } };
    const watch = spawnEtcdctl(h.port, ['watch', 'wp/', '--prefix', '--rev', String(first.header.revision), '--prev-kv']);
    try {
      await watch.waitFor('PUT\nwp/a\none\n');
      await ok(['put', 'wp/a', 'two']);
      await ok(['del', 'wp/a']);
      await watch.waitFor('DELETE\nwp/a\ntwo\nwp/a\n\n');
      assert.equal(watch.output(), 'PUT\nwp/a\none\nPUT\nwp/a\none\nwp/a\ntwo\nDELETE\nwp/a\ntwo\nwp/a\n\n');
    } finally {
      await watch.kill();
    }
    // The killed client's stream ends, and with it its watch.
    const deadline = Date.now() + 5_000;
    while (h.backend.watchCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(h.backend.watchCount, 0);
  });

  it('grants, keeps alive, inspects and revokes a lease', async () => {
    const granted = await ok(['lease', 'grant', '60']);
    const m = /^lease ([0-9a-f]+) granted with TTL\(60s\)\n$/.exec(granted);
    assert.ok(m, granted);
    const id = m[1]!;
    await ok(['put', '--lease', id, 'leased', 'v']);
    assert.equal(await ok(['lease', 'keep-alive', '--once', id]), `lease ${id} keepalived with TTL(60)\n`);
    assert.match(await ok(['lease', 'timetolive', id, '--keys']), new RegExp(`^lease ${id} granted with TTL\\(60s\\), remaining\\(\\d+s\\), attached keys\\(\\[leased\\]\\)\\n$`));
    assert.match(await ok(['lease', 'list']), new RegExp(`found 1 leases\\n${id}\\n`));
    assert.equal(await ok(['lease', 'revoke', id]), `lease ${id} revoked\n`);
    assert.equal(await ok(['get', 'leased']), '');
    const again = await etcdctl(h.port, ['lease', 'revoke', id]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /etcdserver: requested lease not found/);
  });

  it('lists members and shows endpoint status', async () => {
    assert.equal(await ok(['member', 'list']), '8e9e05c52164694d, started, fake-1, http://127.0.0.1:2380, http://127.0.0.1:2379, false\n');
    const status = JSON.parse(await ok(['endpoint', 'status', '-w', 'json'])) as { Endpoint: string; Status: Record<string, unknown> }[];
    assert.equal(status.length, 1);
    assert.equal(status[0]!.Endpoint, `127.0.0.1:${h.port}`);
    assert.equal(status[0]!.Status.version, '3.4.23');
    assert.ok(status[0]!.Status.leader);
    // etcdctl prints health on stderr.
    const health = await etcdctl(h.port, ['endpoint', 'health']);
    assert.equal(health.code, 0);
    assert.match(health.stderr, new RegExp(`127\\.0\\.0\\.1:${h.port} is healthy`));
  });

  it('reports etcd errors as etcdctl shows them', async () => {
    await ok(['put', 'cmp/k', 'a']);
    await ok(['put', 'cmp/k', 'b']);
    await ok(['compaction', String(h.backend.revision)]);
    const r = await etcdctl(h.port, ['get', 'cmp/k', '--rev', '2']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /etcdserver: mvcc: required revision has been compacted/);
    const defrag = await etcdctl(h.port, ['defrag']);
    assert.notEqual(defrag.code, 0);
    assert.match(defrag.stderr, /Unimplemented desc = etcdserver: not implemented: Defragment/);
  });
});
