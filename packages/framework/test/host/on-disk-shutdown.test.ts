// NodeHost stopping, or removing a group, while an on-disk state machine is saving a snapshot
// (the snapshotter writes snapshots off the round, so one may be in saveSnapshot at any time).
// The machine is closed, and its folder deleted, only once what the host started on it is over.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, StateMachine, createStateMachineManager, type CommandContext, type OnDiskStateMachine } from '../../src/fsm/index.js';
import { NodeHost } from '../../src/host/node-host.js';
import { Role } from '../../src/core/types.js';
import type { StateMachineManager } from '../../src/rsm/index.js';
import { MemoryLogStore } from '../../src/storage/memory-log-store.js';
import { SnapshotStore } from '../../src/storage/snapshot-store.js';
import { MemoryHub, MemoryTransport } from '../../src/transport/memory-transport.js';
import { waitFor } from './fixtures.js';

/** Counts in memory; its saveSnapshot waits for `gate`; it notes a close() that comes during one. */
@StateMachine('gated-disk', { storage: 'disk' })
class GatedDiskMachine implements OnDiskStateMachine {
  count = 0;
  applied = 0;
  readonly events: string[] = [];
  gate: Promise<void> | undefined;
  private saving = 0;

  open(): number {
    this.events.push('open');
    return 0;
  }

  @Command({ args: 'any' })
  add(_a: unknown, ctx: CommandContext): number {
    this.applied = ctx.index;
    return ++this.count;
  }

  prepareSnapshot(): unknown {
    return { count: this.count, applied: this.applied };
  }

  async saveSnapshot(pinned: unknown, file: string): Promise<void> {
    this.events.push('save started');
    this.saving++;
    try {
      await this.gate;
      await writeFile(file, JSON.stringify(pinned), { flag: 'wx' });
      this.events.push('save ended');
    } finally {
      this.saving--;
    }
  }

  async recoverFromSnapshot(): Promise<void> {}

  close(): void {
    this.events.push(this.saving > 0 ? 'close during saveSnapshot' : 'close');
  }
}

async function hostWithGroup(t: TestContext): Promise<{ host: NodeHost; machine: GatedDiskMachine; manager: StateMachineManager; stopped: { yes: boolean } }> {
  const root = await mkdtemp(join(tmpdir(), 'raftkit-disk-shutdown-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const made: { machine: GatedDiskMachine; manager: StateMachineManager }[] = [];
  const host = new NodeHost({
    id: 1,
    logStore: new MemoryLogStore(),
    snapshots: new SnapshotStore(join(root, 'snapshots')),
    transport: new MemoryTransport(new MemoryHub(), { selfId: 1 }),
    stateMachines: () => {
      const machine = new GatedDiskMachine();
      const manager = createStateMachineManager(machine);
      made.push({ machine, manager });
      return manager;
    },
    machineDir: (group) => join(root, 'machines', group),
    tickMs: 5,
    electionTick: 10,
    heartbeatTick: 1,
    snapshotEntries: 1000,
    requestTimeoutMs: 1000,
  });
  await host.start();
  const stopped = { yes: false };
  t.after(() => (stopped.yes ? undefined : host.stop()));
  await host.createGroup('g', { type: 'gated-disk', voters: [1] });
  await waitFor(() => host.groupStatus('g').role === Role.Leader, 3000, 'a leader');
  const { machine, manager } = made[0]!;
  await host.propose('g', manager.prepareCommand('add', {}));
  machine.events.length = 0; // the group's first snapshot, taken when it was created
  return { host, machine, manager, stopped };
}

/**
 * Starts a snapshot whose saveSnapshot blocks, runs `act`, and reports the machine's events
 * when `act` settled, or after 1 s if it is still waiting for the save then; lets the save end.
 */
async function whileSaving(host: NodeHost, machine: GatedDiskMachine, act: () => Promise<void>): Promise<string[]> {
  let release!: () => void;
  machine.gate = new Promise<void>((r) => (release = r));
  const snapshot = host.snapshotNow('g').catch(() => undefined);
  try {
    await waitFor(() => machine.events.includes('save started'), 3000, 'saveSnapshot to start');
    const acting = act();
    const seen = await Promise.race([acting.then(() => machine.events.slice()), new Promise<string[]>((r) => setTimeout(() => r(machine.events.slice()), 1000))]);
    release();
    await acting;
    return seen;
  } finally {
    release();
    await snapshot;
  }
}

test('stop closes an on-disk machine only after the snapshot it is saving is written', async (t) => {
  const { host, machine, stopped } = await hostWithGroup(t);
  stopped.yes = true;
  const seen = await whileSaving(host, machine, () => host.stop());
  assert.deepEqual(seen, ['save started'], 'stop() is still waiting for the save');
  assert.deepEqual(machine.events, ['save started', 'save ended', 'close']);
});

test('removeGroup closes an on-disk machine and deletes its folder only after the snapshot it is saving is written', async (t) => {
  const { host, machine } = await hostWithGroup(t);
  const seen = await whileSaving(host, machine, () => host.removeGroup('g'));
  assert.deepEqual(seen, ['save started'], 'removeGroup() is still waiting for the save');
  assert.deepEqual(machine.events, ['save started', 'save ended', 'close']);
});

test('with no snapshot in progress, stop and removeGroup close the machine at once', async (t) => {
  const a = await hostWithGroup(t);
  await a.host.removeGroup('g');
  assert.deepEqual(a.machine.events, ['close']);
  const b = await hostWithGroup(t);
  b.stopped.yes = true;
  await b.host.stop();
  assert.deepEqual(b.machine.events, ['close']);
});
