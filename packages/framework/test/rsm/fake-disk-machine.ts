// A small on-disk state machine for the rsm and host tests: its state is a JSON file in its
// folder holding the values and the last applied index, rewritten by every command (the index
// "in the same transaction" as the change). It records what the framework called on it. Made
// with `{ sync: true }` it has sync() (its writes are durable at once; sync notes the index), so
// its log snapshots hold no state.
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Query, StateMachine, type CommandContext, type OnDiskStateMachine } from '../../src/fsm/index.js';
import { KeyArgs, PutArgs } from '../fsm/machines.js';

export interface DiskState {
  applied: number;
  values: Record<string, string>;
}

export const STATE_FILE = 'state.json';

/** Writes a state file into `dir` as an earlier run of the machine would have left it. */
export function writeDiskState(dir: string, state: DiskState): void {
  writeFileSync(join(dir, STATE_FILE), JSON.stringify(state));
}

@StateMachine('fake-disk', { storage: 'disk' })
export class FakeDiskMachine implements OnDiskStateMachine {
  dir = '';
  state: DiskState = { applied: 0, values: {} };
  /** Indexes of the entries whose handler ran, in order. */
  readonly calls: number[] = [];
  /** The framework's calls of the OnDiskStateMachine methods, in order. */
  readonly events: string[] = [];
  readonly released: unknown[] = [];
  /** With `{ sync: true }`: makes the state durable (it already is) and notes its index. */
  sync?: () => void;
  /** The applied index when sync() was last called (-1: never). */
  synced = -1;

  constructor(o: { sync?: boolean } = {}) {
    if (o.sync) {
      this.sync = () => {
        this.events.push('sync');
        this.synced = this.state.applied;
      };
    }
  }

  private get file(): string {
    return join(this.dir, STATE_FILE);
  }

  open(dir: string): number {
    this.events.push(`open ${dir}`);
    this.dir = dir;
    try {
      this.state = JSON.parse(readFileSync(this.file, 'utf8')) as DiskState;
    } catch {
      this.state = { applied: 0, values: {} };
    }
    return this.state.applied;
  }

  @Command()
  set(a: PutArgs, ctx: CommandContext): { at: number } {
    this.calls.push(ctx.index);
    this.state.values[a.key] = a.value;
    this.state.applied = ctx.index;
    writeFileSync(this.file, JSON.stringify(this.state));
    return { at: ctx.index };
  }

  /** Refuses: throws, and writes nothing (not its index either). */
  @Command()
  fail(a: KeyArgs, ctx: CommandContext): never {
    this.calls.push(ctx.index);
    throw new Error(`refused ${a.key}`);
  }

  @Query()
  get(a: KeyArgs): string | null {
    return this.state.values[a.key] ?? null;
  }

  /** The pin is a copy of the state as it is now. */
  prepareSnapshot(): string {
    this.events.push('prepareSnapshot');
    return JSON.stringify(this.state);
  }

  async saveSnapshot(pinned: unknown, file: string): Promise<void> {
    this.events.push('saveSnapshot');
    await writeFile(file, pinned as string, { flag: 'wx' });
  }

  releaseSnapshot(pinned: unknown): void {
    this.events.push('releaseSnapshot');
    this.released.push(pinned);
  }

  async recoverFromSnapshot(file: string): Promise<void> {
    this.events.push('recoverFromSnapshot');
    const state = JSON.parse(await readFile(file, 'utf8')) as DiskState;
    await rename(file, this.file);
    this.state = state;
  }

  close(): void {
    this.events.push('close');
  }
}
