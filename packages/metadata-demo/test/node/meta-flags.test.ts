// raftkit-meta's own flags: taken out of the command line, the rest left for the shared flags,
// defaults etcd's, bad values one-line errors; the default gRPC address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultGrpcListen, MetaFlagError, parseMetaFlags } from '../../src/meta-flags.js';

test("own flags are parsed (both spellings), the rest passed through, defaults are etcd's", () => {
  const { flags, rest } = parseMetaFlags([
    '--id',
    '1',
    '--quota-bytes',
    '1024',
    '--max-txn-ops=5',
    '--grpc-listen',
    '127.0.0.1:0',
    '--name',
    'alpha',
    '--listen',
    '127.0.0.1:7001',
  ]);
  assert.deepEqual(rest, ['--id', '1', '--listen', '127.0.0.1:7001']);
  assert.equal(flags.quotaBytes, 1024);
  assert.equal(flags.maxTxnOps, 5);
  assert.equal(flags.grpcListen, '127.0.0.1:0');
  assert.equal(flags.name, 'alpha');
  const d = parseMetaFlags([]).flags;
  assert.deepEqual([d.quotaBytes, d.maxTxnOps, d.maxRequestBytes, d.progressNotifyMs, d.grpcListen], [2 * 1024 ** 3, 128, 1.5 * 1024 * 1024, 600_000, undefined]);
});

test('bad values are one-line errors naming the flag', () => {
  const bad = (argv: string[], re: RegExp) =>
    assert.throws(
      () => parseMetaFlags(argv),
      (e: unknown) => e instanceof MetaFlagError && re.test(e.message) && !e.message.includes('\n'),
    );
  bad(['--quota-bytes', '0'], /--quota-bytes must be a positive integer/);
  bad(['--max-txn-ops', '-3'], /--max-txn-ops/);
  bad(['--max-range-bytes'], /--max-range-bytes/);
  bad(['--grpc-listen', 'nowhere'], /--grpc-listen must be HOST:PORT/);
  bad(['--name', ''], /--name/);
});

test('the default gRPC address is the --listen host, port + 1000', () => {
  assert.equal(defaultGrpcListen('127.0.0.1:7001'), '127.0.0.1:8001');
  assert.equal(defaultGrpcListen('[::1]:2379'), '[::1]:3379');
  assert.throws(() => defaultGrpcListen('127.0.0.1:65000'), MetaFlagError);
});
