// How a group comes to exist on this host: created new (its founding configuration written as a
// base snapshot at index 1, so founders start alike and a joiner receives that snapshot) or
// recovered from the log at start (state machine restored from its snapshot; the committed tail
// is applied again). One place for the core's configuration of every group.
import { MemoryStorage } from '../core/memory-storage.js';
import { emptyConfState } from '../core/conf-state.js';
import { ReadOnlyOption, type ConfState, type Message, type NodeId, type SnapshotMetadata } from '../core/types.js';
import type { GroupWrite, LogStore, RecoveredGroup } from '../storage/log-store.js';
import { HostError } from './errors.js';
import { RaftGroup } from './raft-group.js';
import type { SnapshotFiles } from './snapshot-files.js';
import type { GroupStateMachine, StateMachineFactory } from './state-machine.js';
import { rm } from 'node:fs/promises';
import { restoreStored, saveSnapshotOf } from './snapshot-io.js';
import { isNodeId } from '../core/node-id.js';

const EMPTY = new Uint8Array(0);

/** The rule for group names, everywhere a group is named. */
export const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface CreateGroupOptions {
  type: string;
  /** Founding voters (every founding node passes the same list); empty to join later as a new member. */
  voters: NodeId[];
  learners?: NodeId[];
  witnesses?: NodeId[];
}

export interface GroupFactoryOptions {
  id: NodeId;
  electionTick: number;
  heartbeatTick: number;
  quiesceTicks: number;
  readOnlyOption: ReadOnlyOption | undefined;
  random: () => number;
  /** Random per process start: makes read contexts unique across restarts. */
  incarnation: number;
  stateMachines: StateMachineFactory;
  snapshots: SnapshotFiles;
  /** The folder of a group's state machine files (state machines that keep their own state). */
  machineDir?: (group: string) => string;
  logStore: LogStore;
  /** The snapshot slack of a new group (see Snapshotter.slack). */
  slack(): number;
  /** A peer message the group's core dropped (core/message-check.ts). */
  onDroppedMessage?: (group: string, m: Message, reason: string) => void;
}

export class GroupFactory {
  constructor(private readonly o: GroupFactoryOptions) {}

  private raftConfig() {
    return {
      id: this.o.id,
      electionTick: this.o.electionTick,
      heartbeatTick: this.o.heartbeatTick,
      random: this.o.random,
      readOnlyOption: this.o.readOnlyOption ?? ReadOnlyOption.Safe,
      maxSizePerMsg: 1 << 20,
      maxInflightMsgs: 256,
      maxInflightBytes: 64 << 20,
    };
  }

  private group(name: string, type: string, sm: ReturnType<StateMachineFactory>, storage: MemoryStorage, base: SnapshotMetadata): RaftGroup {
    const config = { ...this.raftConfig(), onDroppedMessage: (m: Message, reason: string) => this.o.onDroppedMessage?.(name, m, reason) };
    const g = new RaftGroup(name, type, sm, config, storage, base.index, base.history, this.o.quiesceTicks, this.o.electionTick, this.o.incarnation);
    g.snapshotSlack = this.o.slack();
    return g;
  }

  /** The folder of the group's state machine files. */
  dirOf(group: string): string {
    if (!this.o.machineDir) throw new HostError('bad_request', `group "${group}": its state machine keeps files, but this node has no folder for them (machineDir)`);
    return this.o.machineDir(group);
  }

  private async openMachine(group: string, sm: GroupStateMachine): Promise<void> {
    if (sm.keepsFiles && sm.open) await sm.open(this.dirOf(group));
  }

  /** A group found in the log at start. */
  async recover(rec: RecoveredGroup): Promise<RaftGroup> {
    const storage = MemoryStorage.bootstrap(emptyConfState());
    if (rec.snapshot.index > 0) storage.applySnapshot({ metadata: rec.snapshot, data: EMPTY });
    storage.append(rec.entries);
    storage.setHardState(rec.hardState);
    const sm = this.o.stateMachines(rec.group, rec.type);
    await this.openMachine(rec.group, sm);
    if (rec.snapshot.index > 0) {
      try {
        await restoreStored(sm, this.o.snapshots, rec.group, rec.snapshot, { atStart: true });
      } catch (e) {
        // Start-up fails: the message names the group (its code and class stay).
        if (e instanceof Error) e.message = `group "${rec.group}" (snapshot ${rec.snapshot.index}-${rec.snapshot.term}): ${e.message}`;
        throw e;
      }
    }
    // The state machine restarts from the snapshot; the committed tail is applied again (an
    // on-disk machine skips what its own state already holds). A snapshot that holds no state
    // (an on-disk machine's log base) restores only a machine whose own state holds it.
    return this.group(rec.group, rec.type, sm, storage, rec.snapshot);
  }

  /** A new group, made durable (its base snapshot and configuration) before it is returned. */
  async create(name: string, opts: CreateGroupOptions): Promise<RaftGroup> {
    if (!GROUP_NAME.test(name)) {
      throw new HostError('bad_request', `group name "${name}" must be 1-128 characters of letters, digits, '.', '_' or '-', starting with a letter or digit`);
    }
    const ids = [...opts.voters, ...(opts.learners ?? []), ...(opts.witnesses ?? [])];
    if (!ids.every(isNodeId)) throw new HostError('bad_request', 'member ids must be positive integers');
    const confState: ConfState = {
      ...emptyConfState(),
      voters: [...opts.voters, ...(opts.witnesses ?? [])],
      learners: opts.learners ?? [],
      witnesses: opts.witnesses ?? [],
    };
    // Founding members start from a snapshot of the empty state at index 1 (see
    // MemoryStorage.bootstrap); a node that joins starts empty and receives that snapshot.
    const storage = MemoryStorage.bootstrap(confState);
    const base: SnapshotMetadata = storage.snapshot().metadata;
    const sm = this.o.stateMachines(name, opts.type);
    // A new group starts empty: files left by an earlier group of the same name are not its state.
    if (sm.keepsFiles) await rm(this.dirOf(name), { recursive: true, force: true });
    await this.openMachine(name, sm);
    const write: GroupWrite = { group: name, type: opts.type, snapshot: base, entries: [] };
    if (base.index > 0) {
      await saveSnapshotOf(sm, this.o.snapshots, name, base);
      write.hardState = storage.initialState().hardState;
    }
    await this.o.logStore.write([write]);
    return this.group(name, opts.type, sm, storage, base);
  }
}

/**
 * A group whose only voter is this node has nobody to wait for: it campaigns at once instead of
 * after an election timeout (a restarted single-node service serves a second sooner).
 */
export function campaignIfSoleVoter(g: RaftGroup, self: NodeId): void {
  const cs = g.node.confState();
  if (cs.voters.length === 1 && cs.voters[0] === self && cs.votersOutgoing.length === 0 && !cs.witnesses.includes(self)) g.node.campaign();
}
