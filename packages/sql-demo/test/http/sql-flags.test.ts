import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSqlFlags } from '../../src/sql-flags.js';

test("raftkit-sql's own flags are taken out; the shared ones are left for the server", () => {
  const { flags, rest } = parseSqlFlags(['--id', '1', '--max-request-bytes', '1024', '--max-result-bytes=2048', '--data-dir', 'x']);
  assert.deepEqual(rest, ['--id', '1', '--data-dir', 'x']);
  assert.equal(flags.limits.maxRequestBytes, 1024);
  assert.equal(flags.maxResultBytes, 2048);
  assert.throws(() => parseSqlFlags(['--max-load-bytes', '-5']), /--max-load-bytes must be a positive number of bytes/);
  assert.throws(() => parseSqlFlags(['--max-load-bytes']), /--max-load-bytes must be a positive number of bytes, got ""/);
});
