import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBackupRequest, parseNodesRequest, parseReadyzRequest, parseStatusRequest } from '../../src/rqlite/request/cluster-requests.js';
import { RqliteRequestError } from '../../src/rqlite/request-error.js';
import { type ClusterMember, formatNodesResponse } from '../../src/rqlite/response/nodes-response.js';
import { formatReadyzResponse, type ReadyzState } from '../../src/rqlite/response/readyz-response.js';
import { formatStatusResponse, goTime, type NodeStatus } from '../../src/rqlite/response/status-response.js';

const members: ClusterMember[] = [
  { id: 'node2', raftAddr: '10.0.0.2:4002', voter: true, leader: false, contact: { reachable: false, error: 'timeout waiting for node to respond' } },
  { id: 'node1', raftAddr: '10.0.0.1:4002', voter: true, leader: true, contact: { reachable: true, apiAddr: 'http://10.0.0.1:4001', version: 'v8.0.0', seconds: 0.0015 } },
  { id: 'node3', raftAddr: '10.0.0.3:4002', voter: false, leader: false, contact: { reachable: true, apiAddr: 'http://10.0.0.3:4001', version: '', seconds: 0.002 } },
];

test('/nodes legacy form: an object keyed by id, voters only (http/nodes.go Node fields and order)', () => {
  const reply = formatNodesResponse(members, { nonVoters: false, version: 1, pretty: false });
  assert.equal(reply.status, 200);
  assert.equal(
    reply.body,
    '{"node1":{"id":"node1","api_addr":"http://10.0.0.1:4001","addr":"10.0.0.1:4002","version":"v8.0.0","voter":true,"reachable":true,"leader":true,"time":0.0015,"time_s":"1.5ms"},' +
      '"node2":{"id":"node2","addr":"10.0.0.2:4002","version":"","voter":true,"reachable":false,"leader":false,"error":"timeout waiting for node to respond"}}',
  );
});

test('/nodes?ver=2&nonvoters: a sorted list including non-voters; a member without a version says "unknown"', () => {
  const body = JSON.parse(formatNodesResponse(members, { nonVoters: true, version: 2, pretty: false }).body) as { nodes: { id: string; version: string; voter: boolean }[] };
  assert.deepEqual(
    body.nodes.map((n) => [n.id, n.version, n.voter]),
    [
      ['node1', 'v8.0.0', true],
      ['node2', '', true],
      ['node3', 'unknown', false],
    ],
  );
  assert.match(formatNodesResponse(members, { nonVoters: true, version: 2, pretty: true }).body, /^\{\n {4}"nodes": \[\n {8}\{\n {12}"id": "node1",/);
});

const status: NodeStatus = {
  nodeId: 'node1',
  raftAddr: '10.0.0.1:4002',
  apiBindAddr: '10.0.0.1:4001',
  leader: { nodeId: 'node1', raftAddr: '10.0.0.1:4002' },
  raft: { state: 'Leader', term: 3n, commitIndex: 9007199254740993n, appliedIndex: 10n, lastLogIndex: 12n, voter: true },
  ready: true,
  members: [
    { id: 'node2', raftAddr: '10.0.0.2:4002', voter: false },
    { id: 'node1', raftAddr: '10.0.0.1:4002', voter: true },
  ],
  sqlite: { version: '3.45.0', foreignKeys: false },
  build: { version: 'v0.1.0' },
  authEnabled: false,
  startTime: new Date('2024-05-01T10:00:00.000Z'),
  now: new Date('2024-05-01T11:02:03.250Z'),
  process: { pid: 42, ppid: 1, hostname: 'host-a' },
};

test('/status: the fields tools read, every object with sorted keys as Go maps are written', () => {
  const body = formatStatusResponse(status, { pretty: false }).body;
  assert.equal(
    body,
    '{"build":{"version":"v0.1.0"},"http":{"auth":"disabled","bind_addr":"10.0.0.1:4001"},' +
      '"node":{"current_time":"2024-05-01T11:02:03.25Z","start_time":"2024-05-01T10:00:00Z","uptime":"1h2m3.25s"},"os":{"hostname":"host-a","pid":42,"ppid":1},' +
      '"store":{"addr":"10.0.0.1:4002","db_applied_index":10,"fsm_index":10,"leader":{"addr":"10.0.0.1:4002","node_id":"node1"},"node_id":"node1",' +
      '"nodes":[{"id":"node1","addr":"10.0.0.1:4002","suffrage":"voter"},{"id":"node2","addr":"10.0.0.2:4002","suffrage":"nonvoter"}],"open":true,' +
      '"raft":{"applied_index":10,"commit_index":9007199254740993,"last_log_index":12,"num_peers":0,"state":"Leader","term":3,"voter":true},"ready":true,' +
      '"sqlite3":{"fk_constraints":"disabled","version":"3.45.0"}}}',
  );
  const { leader: _leader, ...leaderless } = status;
  assert.match(formatStatusResponse(leaderless, { pretty: false }).body, /"leader":\{"addr":"","node_id":""\}/);
});

test('/status?key= walks the dotted path: a subtree, {} when missing, the value where the path passes a leaf', () => {
  assert.equal(formatStatusResponse(status, { pretty: true, key: 'store.leader' }).body, '{"addr":"10.0.0.1:4002","node_id":"node1"}');
  assert.equal(formatStatusResponse(status, { pretty: false, key: 'store.raft.state' }).body, '"Leader"');
  assert.equal(formatStatusResponse(status, { pretty: false, key: 'store.nothing' }).body, '{}');
  assert.equal(formatStatusResponse(status, { pretty: false, key: 'store.node_id.deeper' }).body, '"node1"');
});

test('Go time text drops trailing zeros of the fraction', () => {
  assert.equal(goTime(new Date('2024-01-02T03:04:05.000Z')), '2024-01-02T03:04:05Z');
  assert.equal(goTime(new Date('2024-01-02T03:04:10.100Z')), '2024-01-02T03:04:10.1Z');
  assert.equal(goTime(new Date('2024-01-02T03:04:00.123Z')), '2024-01-02T03:04:00.123Z');
});

test('/readyz: the check lines rqlite writes, 503 at the first failing check', () => {
  const healthy: ReadyzState = { leader: { state: 'ok' }, storeReady: true, db: { ok: true } };
  const body = (request: { noLeader: boolean; sync: boolean }, state: ReadyzState) => {
    const reply = formatReadyzResponse(request, state);
    return [reply.status, reply.body];
  };
  const normal = { noLeader: false, sync: false };
  assert.deepEqual(body(normal, healthy), [200, '[+]node ok\n[+]leader ok\n[+]store ok\n[+]db ok']);
  assert.deepEqual(body({ noLeader: true, sync: false }, { ...healthy, leader: { state: 'none' } }), [200, '[+]node ok']);
  assert.deepEqual(body(normal, { ...healthy, leader: { state: 'none' } }), [503, '[+]node ok\n[+]leader does not exist']);
  assert.deepEqual(body(normal, { ...healthy, leader: { state: 'unreachable', error: 'dial tcp: refused' } }), [503, '[+]node ok\n[+]leader not contactable: dial tcp: refused']);
  assert.deepEqual(body(normal, { ...healthy, storeReady: false }), [503, '[+]node ok\n[+]leader ok\n[+]store not ready']);
  assert.deepEqual(body({ noLeader: false, sync: true }, { ...healthy, sync: { ok: true } }), [200, '[+]node ok\n[+]leader ok\n[+]store ok\n[+]sync ok\n[+]db ok']);
  assert.deepEqual(body({ noLeader: false, sync: true }, { ...healthy, sync: { ok: false, error: 'timeout' } }), [503, '[+]node ok\n[+]leader ok\n[+]store ok\n[+]sync timeout']);
  assert.deepEqual(body(normal, { ...healthy, db: { ok: false, error: 'disk I/O error' } }), [503, '[+]node ok\n[+]leader ok\n[+]store ok\n[+]db not ok: disk I/O error']);
});

test('/db/backup flags: fmt=sql (any case) is a dump as application/sql, tables, noleader; unknown formats refused', () => {
  assert.deepEqual(parseBackupRequest('GET', 'fmt=SQL&tables=users,+products+,,orders&noleader&compress&timeout=5s'), {
    format: 'sql',
    contentType: 'application/sql',
    fromLeader: false,
    vacuum: false,
    compress: true,
    tables: ['users', 'products', 'orders'],
    redirect: false,
    timeoutMs: 5000,
  });
  assert.deepEqual(parseBackupRequest('GET', '').format, 'binary');
  assert.deepEqual(parseBackupRequest('GET', '').contentType, 'application/octet-stream');
  assert.throws(
    () => parseBackupRequest('GET', 'fmt=csv'),
    (err: unknown) => err instanceof RqliteRequestError && err.message === 'fmt must be one of binary, sql, delete',
  );
  assert.throws(
    () => parseBackupRequest('POST', ''),
    (err: unknown) => err instanceof RqliteRequestError && err.status === 405,
  );
});

test('/nodes, /readyz and /status flags', () => {
  assert.deepEqual(parseNodesRequest('GET', 'nonvoters&ver=2&pretty&timeout=1s&retries=2'), { nonVoters: true, version: 2, pretty: true, timeoutMs: 1000, retries: 2 });
  assert.deepEqual(parseNodesRequest('GET', 'ver=3'), { nonVoters: false, version: 1, pretty: false });
  assert.deepEqual(parseReadyzRequest('GET', 'noleader&sync&timeout=250ms'), { noLeader: true, sync: true, timeoutMs: 250 });
  assert.deepEqual(parseStatusRequest('GET', 'pretty&key=store.raft'), { pretty: true, key: 'store.raft' });
  assert.throws(
    () => parseReadyzRequest('GET', 'timeout=later'),
    (err: unknown) => err instanceof RqliteRequestError && err.message === 'timeout is not a valid duration',
  );
  assert.throws(
    () => parseStatusRequest('POST', ''),
    (err: unknown) => err instanceof RqliteRequestError && err.code === 'method_not_allowed',
  );
});
