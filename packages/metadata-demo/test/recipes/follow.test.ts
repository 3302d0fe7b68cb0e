// ServiceRegistry and watchConfig through MetaClient and the gRPC server (fake store): the
// application's view goes through every revision of the watched keys, in order, each view exact;
// and it recovers when its watch is cancelled for a compaction (the server cancels live watches,
// or the client resumes a watch after an outage from a revision compacted meanwhile): the keys
// are read again and the view is the store's state, deletions included.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deleteRequest, putRequest } from '../../src/api/request-builders.js';
import { MetaClient } from '../../src/client/index.js';
import { startGrpcServer } from '../../src/grpc/index.js';
import { ServiceRegistry, Session, watchConfig, type ConfigView, type ServiceInstances } from '../../src/recipes/index.js';
import { recordingLogger } from '../support/recording-logger.js';
import { waitFor } from '../client/client-fixture.js';
import { startRecipeBed, type RecipeBed } from './recipe-fixture.js';

const sorted = (m: Map<string, string>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));

describe('ServiceRegistry', () => {
  let bed: RecipeBed;

  before(async () => {
    bed = await startRecipeBed();
  });

  after(async () => {
    await bed.close();
  });

  it('sees every registration, deregistration and expiry, in revision order', async () => {
    const c = bed.client();
    const registry = new ServiceRegistry(c);
    const views: ServiceInstances[] = [];
    const stop = registry.watch('api', (v) => views.push(v));
    await waitFor(() => views.length === 1);
    const s1 = await Session.create(bed.client(), { ttl: 10 });
    const s2 = await Session.create(bed.client(), { ttl: 2 });
    const expected: [string, string][][] = [[]];
    await registry.register(s1, 'api', 'i1', '10.0.0.1:80');
    expected.push([['i1', '10.0.0.1:80']]);
    await registry.register(s2, 'api', 'i2', '10.0.0.2:80');
    expected.push([
      ['i1', '10.0.0.1:80'],
      ['i2', '10.0.0.2:80'],
    ]);
    // Another service's instances are not this watch's business.
    await registry.register(s1, 'db', 'd1', '10.0.0.9:5432');
    await registry.register(s1, 'api', 'i1', '10.0.0.1:8080');
    expected.push([
      ['i1', '10.0.0.1:8080'],
      ['i2', '10.0.0.2:80'],
    ]);
    await registry.deregister('api', 'i1');
    expected.push([['i2', '10.0.0.2:80']]);
    // i2's process dies: its lease expires and its registration goes with it.
    s2.orphan();
    expected.push([]);
    await waitFor(() => views.length === expected.length, 4000, 'the expiry to reach the view');
    assert.deepEqual(
      views.map((v) => sorted(v.instances)),
      expected,
    );
    for (let i = 1; i < views.length; i++) assert.ok(views[i]!.revision > views[i - 1]!.revision);
    stop();
    await s1.close();
  });

  it('reads the instances again when its watch is cancelled for a compaction', async () => {
    const c = bed.client();
    const registry = new ServiceRegistry(c, 'svc2/');
    const views: ServiceInstances[] = [];
    const stop = registry.watch('web', (v) => views.push(v));
    await waitFor(() => views.length === 1);
    const s = await Session.create(bed.client(), { ttl: 10 });
    await registry.register(s, 'web', 'w1', 'a');
    await waitFor(() => views.length === 2);
    const watchesBefore = bed.h.backend.watchRequests.length;
    const writer = bed.client();
    await writer.put(putRequest('svc2/web/w2', 'b'));
    const rev = (await writer.deleteRange(deleteRequest('svc2/web/w1'))).header.revision;
    await writer.compact({ revision: rev, physical: true });
    await waitFor(() => views.length === 4, 3000, 'the two changes');
    bed.h.backend.cancelWatchesAsCompacted();
    await waitFor(() => views.length === 5, 3000, 'the view after the reset');
    assert.deepEqual(sorted(views[4]!.instances), [['w2', 'b']]);
    assert.equal(views[4]!.revision, rev);
    assert.equal(bed.h.backend.watchRequests.length, watchesBefore + 1, 'one new watch');
    await registry.register(s, 'web', 'w3', 'c');
    await waitFor(() => views.at(-1)?.instances.size === 2);
    assert.deepEqual(sorted(views.at(-1)!.instances), [
      ['w2', 'b'],
      ['w3', 'c'],
    ]);
    stop();
    await s.close();
  });
});

describe('watchConfig', () => {
  let bed: RecipeBed;

  before(async () => {
    bed = await startRecipeBed();
  });

  after(async () => {
    await bed.close();
  });

  it('sees every change: one view per revision, each the exact state at its revision', async () => {
    const writer = bed.client();
    await writer.put(putRequest('cfg/a', '0'));
    const views: ConfigView[] = [];
    const stop = watchConfig(bed.client(), 'cfg/', (v) => views.push(v));
    await waitFor(() => views.length === 1);
    assert.deepEqual([sorted(views[0]!.values), views[0]!.changed], [[['a', '0']], ['a']]);
    // The expected state after each write, computed alongside.
    const state = new Map([['a', '0']]);
    const expected: { revision: number; values: [string, string][]; changed: string[] }[] = [];
    for (let i = 1; i <= 20; i++) {
      const key = `k${i % 4}`;
      let revision: number;
      if (i % 5 === 0 && state.has(key)) {
        revision = (await writer.deleteRange(deleteRequest(`cfg/${key}`))).header.revision;
        state.delete(key);
      } else {
        revision = (await writer.put(putRequest(`cfg/${key}`, `v${i}`))).header.revision;
        state.set(key, `v${i}`);
      }
      // Writes outside the prefix are not changes.
      await writer.put(putRequest(`other/${i}`, 'x'));
      expected.push({ revision, values: sorted(state), changed: [key] });
    }
    await waitFor(() => views.length === 21, 3000, 'every change');
    assert.deepEqual(
      views.slice(1).map((v) => ({ revision: v.revision, values: sorted(v.values), changed: v.changed })),
      expected,
    );
    stop();
  });

  it('recovers after an outage during which its resume revision was compacted: the view is read again', async () => {
    const logger = recordingLogger();
    let server = await startGrpcServer({ backend: bed.h.backend, listen: '127.0.0.1:0', logger });
    const port = server.port;
    const c = new MetaClient({ endpoints: [`127.0.0.1:${port}`], attemptTimeoutMs: 500, connectTimeoutMs: 300 });
    try {
      const writer = bed.client();
      await writer.put(putRequest('cfg2/keep', '1'));
      await writer.put(putRequest('cfg2/gone', '1'));
      const views: ConfigView[] = [];
      const stop = watchConfig(c, 'cfg2/', (v) => views.push(v));
      await waitFor(() => views.length === 1);
      await writer.put(putRequest('cfg2/keep', '2'));
      await waitFor(() => views.length === 2);
      // The node goes away; meanwhile the keys change and the history is compacted past the
      // watch's next revision.
      await server.close();
      await writer.put(putRequest('cfg2/keep', '3'));
      await writer.deleteRange(deleteRequest('cfg2/gone'));
      const rev = (await writer.put(putRequest('cfg2/new', '1'))).header.revision;
      await writer.compact({ revision: rev, physical: true });
      server = await startGrpcServer({ backend: bed.h.backend, listen: `127.0.0.1:${port}`, logger });
      await waitFor(() => views.length === 3, 5000, 'the view after the reset');
      const reset = views[2]!;
      assert.deepEqual(sorted(reset.values), [
        ['keep', '3'],
        ['new', '1'],
      ]);
      assert.deepEqual(reset.changed.sort(), ['gone', 'keep', 'new'], 'the reset names the deleted key too');
      assert.ok(reset.revision >= rev);
      // And it follows on from there.
      await writer.put(putRequest('cfg2/keep', '4'));
      await waitFor(() => views.length === 4);
      assert.equal(views[3]!.values.get('keep'), '4');
      stop();
    } finally {
      c.close();
      await server.close();
    }
  });
});
