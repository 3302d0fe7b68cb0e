// The shared server flags: the timing flags (--heartbeat-ms, --election-ms), their safety rules
// and how they become the host's ticks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlagError, parseServerFlags, SHARED_FLAGS_HELP, type ServerFlags } from '../../src/server/flags.js';
import { startNodeServer } from '../../src/server/start-node.js';
import { hostTicks, nodeTimingOf, ticksOf } from '../../src/server/timing.js';

const BASE = ['--id', '1', '--listen', '127.0.0.1:7001', '--peers', '1=127.0.0.1:7001', '--data-dir', '/tmp/unused'];
const parse = (...more: string[]) => parseServerFlags([...BASE, ...more], {}).flags;

/** Asserts a FlagError whose one-line message matches every pattern. */
function assertFlagError(run: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof FlagError, `a FlagError, got ${String(e)}`);
    assert.equal(e.code, 'bad_flag');
    assert.doesNotMatch(e.message, /\n/, 'one line');
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

test('without timing flags there is no timing, and the host runs at the server defaults (100 ms heartbeat, 1 s election)', () => {
  assert.equal(parse().timing, undefined);
  assert.deepEqual(hostTicks(undefined), { tickMs: 100, heartbeatTick: 1, electionTick: 10 });
  assert.deepEqual(nodeTimingOf(hostTicks(undefined)), { tickMs: 100, heartbeatMs: 100, electionMs: 1000 });
});

test('--heartbeat-ms and --election-ms are parsed; one alone takes the default of the other', () => {
  assert.deepEqual(parse('--election-ms', '300', '--heartbeat-ms', '50').timing, { heartbeatMs: 50, electionMs: 300 });
  assert.deepEqual(parse('--election-ms', '2000').timing, { heartbeatMs: 100, electionMs: 2000 });
  assert.deepEqual(parse('--heartbeat-ms', '20').timing, { heartbeatMs: 20, electionMs: 1000 });
  assert.deepEqual(parse('--heartbeat-ms', '10', '--election-ms', '50').timing, { heartbeatMs: 10, electionMs: 50 }, 'both at their minimum');
  assert.deepEqual(parse('--heartbeat-ms', '10000', '--election-ms', '60000').timing, { heartbeatMs: 10_000, electionMs: 60_000 }, 'both at their maximum');
});

test('bad timing values: integers of milliseconds within range, one-line FlagErrors naming the flag', () => {
  // --flag=value: parseArgs itself refuses `--heartbeat-ms -50` (it reads -50 as an option).
  for (const bad of ['abc', '', '1.5', '-50', '9', '10001', '1e3', '0x20', ' 50']) {
    assertFlagError(() => parse(`--heartbeat-ms=${bad}`), /^--heartbeat-ms must be an integer from 10 to 10000 \(milliseconds\)/);
  }
  for (const bad of ['abc', '49', '60001', '300ms', '-300']) {
    assertFlagError(() => parse(`--election-ms=${bad}`, '--heartbeat-ms', '10'), /^--election-ms must be an integer from 50 to 60000 \(milliseconds\)/);
  }
});

test('the election timeout must be at least 5 heartbeats, and the error says why', () => {
  assertFlagError(
    () => parse('--election-ms', '100', '--heartbeat-ms', '50'),
    /--election-ms \(100\) must be at least 5 x --heartbeat-ms \(50\)/,
    /campaigns against a live leader/,
  );
  assertFlagError(() => parse('--election-ms', '249', '--heartbeat-ms', '50'), /at least 5 x/);
  assert.deepEqual(parse('--election-ms', '250', '--heartbeat-ms', '50').timing, { heartbeatMs: 50, electionMs: 250 });
  // A flag left out is named as the default, not as something the user gave.
  assertFlagError(() => parse('--heartbeat-ms', '500'), /--election-ms \(1000, the default\) must be at least 5 x --heartbeat-ms \(500\)/);
  assertFlagError(() => parse('--election-ms', '400'), /--election-ms \(400\) must be at least 5 x --heartbeat-ms \(100, the default\)/);
});

test('a timing becomes whole ticks of at most 100 ms; the heartbeat stays within half a millisecond per tick', () => {
  assert.deepEqual(ticksOf({ heartbeatMs: 50, electionMs: 300 }), { tickMs: 50, heartbeatTick: 1, electionTick: 6 });
  assert.deepEqual(ticksOf({ heartbeatMs: 100, electionMs: 1000 }), { tickMs: 100, heartbeatTick: 1, electionTick: 10 });
  assert.deepEqual(ticksOf({ heartbeatMs: 150, electionMs: 1000 }), { tickMs: 75, heartbeatTick: 2, electionTick: 13 });
  assert.deepEqual(ticksOf({ heartbeatMs: 1000, electionMs: 5000 }), { tickMs: 100, heartbeatTick: 10, electionTick: 50 });
  assert.deepEqual(ticksOf({ heartbeatMs: 10, electionMs: 50 }), { tickMs: 10, heartbeatTick: 1, electionTick: 5 });
  // Rounding the ticks must not undo the 5-heartbeats rule (6009 ms runs as 61 ticks of 99 ms).
  assert.deepEqual(ticksOf({ heartbeatMs: 6009, electionMs: 30_045 }), { tickMs: 99, heartbeatTick: 61, electionTick: 305 });
  // Whatever the accepted values, the 5-heartbeats rule, the core's (electionTick > heartbeatTick)
  // and a lease of electionTick - 2 > 0 ticks hold, and the tick stays at most 100 ms.
  for (let heartbeatMs = 10; heartbeatMs <= 10_000; heartbeatMs += 7) {
    for (const electionMs of [5 * heartbeatMs, 7 * heartbeatMs + 3, 60_000]) {
      if (electionMs > 60_000) continue;
      const t = ticksOf({ heartbeatMs, electionMs });
      assert.ok(t.tickMs <= 100 && t.electionTick >= 5 * t.heartbeatTick && t.electionTick - 2 > 0, JSON.stringify({ heartbeatMs, electionMs, t }));
      assert.ok(Math.abs(t.tickMs * t.heartbeatTick - heartbeatMs) <= t.heartbeatTick / 2, `heartbeat ${heartbeatMs} ms runs as ${t.tickMs * t.heartbeatTick} ms`);
    }
  }
});

test('the timing flags override the host options; without them the host options apply', () => {
  const host = { tickMs: 20, heartbeatTick: 2, electionTick: 30 };
  assert.deepEqual(hostTicks({ heartbeatMs: 50, electionMs: 300 }, host), { tickMs: 50, heartbeatTick: 1, electionTick: 6 });
  assert.deepEqual(hostTicks(undefined, host), host);
  assert.deepEqual(hostTicks(undefined, { tickMs: 20 }), { tickMs: 20, heartbeatTick: 1, electionTick: 10 });
  assert.deepEqual(nodeTimingOf({ tickMs: 75, heartbeatTick: 2, electionTick: 13 }), { tickMs: 75, heartbeatMs: 150, electionMs: 975 });
});

test('flags built in code get the same rules: a bad timing is refused before the data dir is touched', async () => {
  const root = mkdtempSync(join(tmpdir(), 'raftkit-flags-'));
  try {
    const dataDir = join(root, 'node');
    const flags: ServerFlags = {
      id: 1,
      listen: { host: '127.0.0.1', port: 0 },
      peers: new Map([[1, '127.0.0.1:1']]),
      join: undefined,
      dataDir,
      token: undefined,
      logLevel: 'silent',
      repairTornTail: false,
      timing: { heartbeatMs: 50, electionMs: 100 },
      help: false,
    };
    await assert.rejects(
      startNodeServer({ flags, stateMachines: () => assert.fail('no group is created') }),
      (e: unknown) => e instanceof FlagError && /at least 5 x --heartbeat-ms/.test(e.message),
    );
    assert.equal(existsSync(dataDir), false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('--help lists the timing flags with their rules', () => {
  assert.match(SHARED_FLAGS_HELP, /--heartbeat-ms N .*10-10000 \(default 100\)/);
  assert.match(SHARED_FLAGS_HELP, /--election-ms N .*randomised in \[N, 2N\).*50-60000 \(default 1000\)/);
  assert.match(SHARED_FLAGS_HELP, /at least 5 x --heartbeat-ms; give every node the same two values/);
  assert.equal(parseServerFlags(['--help'], {}).flags.help, true);
});

test('--snapshot-bytes: an integer of bytes from 0 (by count only) to 2^40; absent leaves the server default', () => {
  assert.equal(parse().snapshotBytes, undefined);
  assert.equal(parse('--snapshot-bytes', '0').snapshotBytes, 0);
  assert.equal(parse('--snapshot-bytes', '1048576').snapshotBytes, 1_048_576);
  for (const bad of ['abc', '', '1.5', '-1', '1e6', '1099511627777', '64MiB']) {
    assertFlagError(() => parse(`--snapshot-bytes=${bad}`), /^--snapshot-bytes must be an integer from 0 to 1099511627776/);
  }
  assert.match(SHARED_FLAGS_HELP, /--snapshot-bytes N/);
});
