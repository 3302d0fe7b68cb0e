// Fuzz: a node's data dir with one file truncated or bit-flipped. The node either refuses to
// start with a one-line ServerStartError naming the problem, or starts and still serves every
// write it acknowledged before, unchanged. Nothing in between: no crash, no silent loss.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startRaftServer, type RaftServer } from '../../src/server/raft-server.js';
import type { ServerFlags } from '../../src/server/flags.js';
import { ServerStartError } from '../../src/server/server-error.js';
import { request } from '../api/helpers.js';
import { KvMachine } from '../fsm/machines.js';
import { freePorts } from '../support/ports.js';
import { waitFor } from '../support/wait.js';
import { fuzz } from './fuzz-config.js';

const KEYS = 40;
let golden: string;
let files: string[];

function flagsFor(dir: string, port: number): ServerFlags {
  return {
    id: 1,
    listen: { host: '127.0.0.1', port },
    peers: new Map([[1, `127.0.0.1:${port}`]]),
    join: undefined,
    dataDir: dir,
    token: undefined,
    logLevel: 'silent',
    repairTornTail: false,
    help: false,
    snapshotEntries: 25,
  };
}

const start = (dir: string, port: number) =>
  startRaftServer({ name: 'fuzz', machines: [KvMachine], groups: [{ name: 'kv', type: 'kv' }], flags: flagsFor(dir, port), host: { tickMs: 10 } });

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}

before(async () => {
  golden = mkdtempSync(join(tmpdir(), 'raftkit-fuzz-golden-'));
  const [port] = await freePorts(1);
  const server = await start(golden, port!);
  await waitFor(() => server.node.host.leaderOf('kv') === 1, 10_000, 'a leader');
  for (let i = 0; i < KEYS; i++) {
    const r = await request(`http://127.0.0.1:${port}`, 'POST', '/v1/groups/kv/commands/put', { body: JSON.stringify({ key: `k${i}`, value: `value ${i}` }) });
    assert.equal(r.status, 200);
  }
  await server.stop();
  files = listFiles(golden).map((f) => relative(golden, f));
  assert.ok(files.includes('raft.db'), files.join(' '));
});
after(() => rmSync(golden, { recursive: true, force: true }));

const damage = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), file: fc.nat(), keep: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('flip' as const), file: fc.nat(), at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), mask: fc.integer({ min: 1, max: 255 }) }),
);

test('fuzz: a truncated or bit-flipped data-dir file is a clear start error, or nothing acknowledged is lost', async () => {
  await fuzz(
    'data dir damage',
    fc.asyncProperty(damage, async (d) => {
      const dir = mkdtempSync(join(tmpdir(), 'raftkit-fuzz-dd-'));
      let server: RaftServer | undefined;
      try {
        cpSync(golden, dir, { recursive: true });
        const file = join(dir, files[d.file % files.length]!);
        const size = statSync(file).size;
        if (d.kind === 'truncate') truncateSync(file, Math.floor(size * d.keep));
        else if (size > 0) {
          const bytes = readFileSync(file);
          bytes[Math.floor(d.at * size)]! ^= d.mask;
          writeFileSync(file, bytes);
        }
        const [port] = await freePorts(1);
        try {
          server = await start(dir, port!);
        } catch (e) {
          assert.ok(e instanceof ServerStartError, `not a ServerStartError: ${(e as Error).stack}`);
          assert.ok(!e.message.includes('\n'), `not one line: ${e.message}`);
          return;
        }
        await waitFor(() => server!.node.host.leaderOf('kv') === 1, 10_000, `a leader after ${JSON.stringify(d)} on ${files[d.file % files.length]}`);
        for (let i = 0; i < KEYS; i++) {
          const r = await request(`http://127.0.0.1:${port}`, 'POST', '/v1/groups/kv/queries/get', { body: JSON.stringify({ key: `k${i}` }) });
          assert.equal(r.status, 200, `k${i} after ${JSON.stringify(d)} on ${files[d.file % files.length]}: ${r.text}`);
          assert.equal(r.json.result.value, `value ${i}`, `k${i} after ${JSON.stringify(d)} on ${files[d.file % files.length]}`);
        }
      } finally {
        await server?.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }),
    10,
  );
});
