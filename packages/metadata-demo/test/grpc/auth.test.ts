// etcd authentication with a cluster token: etcd's clients log in with the token as password
// (etcdctl --user, etcd3's `auth`, the gateway's /v3/auth/authenticate) and every other call
// without valid credentials is refused before it reaches the store, over gRPC and the gateway.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { clusterSecret } from '@raftkit/framework/server';
import { Etcd3 } from 'etcd3';
import { EtcdAuth } from '../../src/api/etcd-auth.js';
import { MetaError } from '../../src/api/meta-error.js';
import { startFakeGateway, startFakeGrpc, type GatewayHarness, type GrpcHarness } from '../support/api-harness.js';
import { etcdctl, etcdctlPath } from '../support/etcdctl.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e instanceof MetaError ? e.code : String(e);
  }
}

describe('etcd auth tokens', () => {
  it('are checked by any node with the secret, across a rotation, and not after it', () => {
    const old = new EtcdAuth(clusterSecret('old'));
    const token = old.authenticate('app', 'old');
    assert.equal(
      code(() => new EtcdAuth(clusterSecret('old')).check(token, undefined)),
      undefined,
    );
    assert.equal(
      code(() => new EtcdAuth(clusterSecret('new', ['old'])).check(token, undefined)),
      undefined,
    );
    assert.equal(
      code(() => new EtcdAuth(clusterSecret('new')).check(token, undefined)),
      'invalid_auth_token',
    );
    // The user name is bound to the digest: a token with another name does not pass.
    const forged = `root${token.slice(token.indexOf('.'))}`;
    assert.equal(
      code(() => old.check(forged, undefined)),
      'invalid_auth_token',
    );
    assert.equal(
      code(() => old.check(undefined, undefined)),
      'user_empty',
    );
    assert.equal(
      code(() => old.check(undefined, 'Bearer old')),
      undefined,
    );
    assert.equal(
      code(() => old.check(undefined, 'Bearer new')),
      'invalid_auth_token',
    );
    assert.equal(
      code(() => old.authenticate('app', 'wrong')),
      'auth_failed',
    );
    assert.equal(
      code(() => old.authenticate('', 'old')),
      'user_empty',
    );
    assert.equal(
      code(() => new EtcdAuth(clusterSecret(undefined)).authenticate('app', 'x')),
      'auth_not_enabled',
    );
  });
});

describe('gRPC server with a cluster token', () => {
  let h: GrpcHarness;

  before(async () => {
    etcdctlPath();
    h = await startFakeGrpc(undefined, { token: 'sesame', acceptTokens: ['next'] });
  });

  after(async () => {
    await h.close();
  });

  it('refuses etcdctl without a user or with a wrong password, and changes nothing', async () => {
    const anonymous = await etcdctl(h.port, ['put', 'k', 'v']);
    assert.notEqual(anonymous.code, 0);
    assert.match(anonymous.stderr, /user name is empty/);
    const wrong = await etcdctl(h.port, ['--user', 'root:nope', 'get', 'k']);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /authentication failed, invalid user ID or password/);
    assert.deepEqual(
      h.backend.calls.filter((c) => c !== 'status'),
      [],
    );
  });

  it('serves etcdctl logged in with the token, or with the one accepted in a rotation', async () => {
    const put = await etcdctl(h.port, ['--user', 'root:sesame', 'put', 'k', 'v']);
    assert.equal(put.code, 0, put.stderr);
    const get = await etcdctl(h.port, ['--user', 'ops:next', 'get', 'k']);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout, 'k\nv\n');
    const deleted = await etcdctl(h.port, ['--user', 'root:sesame', 'del', 'k']);
    assert.equal(deleted.stdout, '1\n', deleted.stderr);
  });

  it('serves the etcd3 client with auth, streams included, and refuses it without', async () => {
    const client = new Etcd3({ hosts: `127.0.0.1:${h.port}`, auth: { username: 'app', password: 'sesame' } });
    const anonymous = new Etcd3({ hosts: `127.0.0.1:${h.port}` });
    try {
      await client.put('app/a').value('1');
      assert.equal(await client.get('app/a').string(), '1');
      const watcher = await client.watch().key('app/w').create();
      const seen = new Promise<string>((resolve) => watcher.on('put', (kv) => resolve(kv.value.toString())));
      await client.put('app/w').value('hello');
      assert.equal(await seen, 'hello');
      await watcher.cancel();
      await assert.rejects(anonymous.get('app/a').string(), /user name is empty/);
      await assert.rejects(anonymous.put('app/a').value('2').exec(), /user name is empty/);
      assert.equal(await client.get('app/a').string(), '1');
    } finally {
      client.close();
      anonymous.close();
    }
  });
});

describe('JSON gateway with a cluster token', () => {
  let g: GatewayHarness;

  before(async () => {
    g = await startFakeGateway({ token: 'sesame', acceptTokens: ['next'] });
  });

  after(async () => {
    await g.close();
  });

  it('logs in at /v3/auth/authenticate and takes the auth token as the Authorization header', async () => {
    const login = await g.post('/v3/auth/authenticate', { name: 'app', password: 'next' });
    assert.equal(login.status, 200, login.text);
    const token = (login.json as { token: string }).token;
    assert.equal(typeof token, 'string');
    assert.equal((await g.post('/v3/kv/put', { key: b64('k'), value: b64('v') }, { authorization: token })).status, 200);
    const bad = await g.post('/v3/auth/authenticate', { name: 'app', password: 'wrong' });
    assert.deepEqual([bad.status, (bad.json as { code: number }).code], [400, 3]);
  });

  it('refuses a call without credentials as etcd does', async () => {
    const none = await g.post('/v3/kv/range', { key: b64('k') });
    assert.deepEqual([none.status, none.json], [400, { error: 'etcdserver: user name is empty', message: 'etcdserver: user name is empty', code: 3 }]);
    const wrong = await g.post('/v3/kv/range', { key: b64('k') }, { authorization: 'app.bm90LWEtZGlnZXN0' });
    assert.deepEqual([wrong.status, (wrong.json as { code: number }).code], [401, 16]);
  });
});
