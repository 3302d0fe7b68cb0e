// The state machine of a group whose handlers run in another process (a Python machine). The
// StateMachineManager drives it like any other (sessions, request keys, the watch and the
// snapshot envelope are the manager's); this class carries each entry to the machine in log
// order and keeps what it needs to bring any machine process to the group's state:
//
// - `checkpoint`: the machine's own snapshot at some index (asked for every CHECKPOINT_EVERY
//   entries), and `tail`: every entry handed to the machine since. Both go into the group's
//   snapshots, so a node restored from a snapshot can rebuild its machine too.
// - A machine says in its hello which index it applied last. The node resumes right after it
//   when the tail holds what follows; otherwise it sends the checkpoint (restore) and replays
//   the tail. An entry is never applied twice or skipped by a machine process.
//
// Entries never wait for an absent machine: the host's round (every group of the node) would
// wait with them. An entry applied while the machine is away (or that it did not answer in
// time) is queued for it and answered here `result_unavailable` (409: it takes effect once when
// the machine is back; its result is not known on this node). A leader whose machine is away
// refuses new commands with 503 before proposing them.
import { RaftkitError, isErrorCode } from '../common/errors.js';
import type { GroupSchema, OperationSchema } from '../fsm/schema.js';
import type { CommandContext } from '../rsm/command-context.js';
import { CommandErrorResult } from '../rsm/command-result.js';
import type { ReplicatedMachine } from '../rsm/replicated-machine.js';
import type { MachineLink } from './machine-link.js';
import { checkRemoteArgs } from './remote-args.js';
import { sameOperations, type ApplyEntry, type HelloMessage, type MachineDeclaration, type ResultMessage } from './remote-protocol.js';

/** Ask the machine for a checkpoint once this many entries were handed to it since the last. */
export const CHECKPOINT_EVERY = 1000;

export type MachineState = 'waiting' | 'connected' | 'failed';

/** How a group's remote machine is doing, for /v1/status and metrics. */
export interface RemoteMachineStatus {
  name: string;
  version: number;
  state: MachineState;
  /** The last entry handed to the machine (delivered, or queued while it is away). */
  appliedIndex: number;
  /** The last entry the connected machine holds. */
  machineIndex: number;
  /** Entries waiting for the machine to come back. */
  queued: number;
  failures: number;
  message?: string;
}

/** What a snapshot of the group holds for the machine. */
interface RemoteSnapshotState {
  declared: MachineDeclaration | null;
  checkpoint: { index: number; state: unknown };
  tail: ApplyEntry[];
}

export interface RemoteMachineOptions {
  group: string;
  type: string;
  version: number;
  nodeId: number;
  onStateChange?: (m: RemoteMachine) => void;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class RemoteMachine implements ReplicatedMachine {
  readonly type: string;
  private declared: MachineDeclaration | undefined;
  private checkpoint: { index: number; state: unknown } = { index: 0, state: null };
  private tail: ApplyEntry[] = [];
  /** The last entry handed over (delivered or queued). */
  private appliedIndex = 0;
  /** The last entry the connected machine has been sent; -1 while no machine is in sync. */
  private machineIndex = -1;
  private link: MachineLink | undefined;
  private checkpointing = false;
  private state: MachineState = 'waiting';
  private message: string | undefined;
  failures = 0;

  constructor(private readonly o: RemoteMachineOptions) {
    this.type = o.type;
  }

  get connected(): boolean {
    return this.link?.up === true;
  }

  status(): RemoteMachineStatus {
    const s: RemoteMachineStatus = {
      name: this.o.type,
      version: this.o.version,
      state: this.state,
      appliedIndex: this.appliedIndex,
      machineIndex: Math.max(this.machineIndex, 0),
      queued: this.connected ? 0 : this.tail.filter((e) => e.index > Math.max(this.machineIndex, 0)).length,
      failures: this.failures,
    };
    if (this.message !== undefined) s.message = this.message;
    return s;
  }

  schema(group: string): GroupSchema {
    const d = this.declared;
    if (!d) throw this.away('its schema is not known yet');
    return { group, type: this.type, commands: d.commands, queries: d.queries };
  }

  private away(what: string): RaftkitError {
    const why = this.state === 'failed' ? `failed (${this.message ?? 'no answer'})` : 'is not connected';
    return new RaftkitError(
      'unavailable',
      `the state machine "${this.type}" of group "${this.o.group}" ${why} on node ${this.o.nodeId}: ${what}; start it (serve_state_machine) or retry`,
    );
  }

  private operation(kind: 'command' | 'query', name: string): OperationSchema {
    const d = this.declared;
    if (!d) throw this.away(`the ${kind} was not ${kind === 'command' ? 'proposed' : 'run'}`);
    const op = (kind === 'command' ? d.commands : d.queries).find((o) => o.name === name);
    if (!op) {
      const names = (kind === 'command' ? d.commands : d.queries).map((o) => o.name).join(', ') || 'none';
      throw new RaftkitError(
        kind === 'command' ? 'unknown_command' : 'unknown_query',
        `state machine "${this.type}" has no ${kind} "${name}" (${kind === 'command' ? 'commands' : 'queries'}: ${names})`,
      );
    }
    return op;
  }

  // ------------------------------------------------------------------ ReplicatedMachine

  checkCommand(name: string, args: unknown): void {
    checkRemoteArgs(this.operation('command', name), args);
    // A command proposed now would wait in the log for the machine: refused before proposing.
    if (!this.connected) throw this.away('the command was not proposed');
  }

  executeCommand(name: string, args: unknown, ctx: CommandContext): unknown {
    const entry: ApplyEntry = { index: ctx.index, term: ctx.term, leaderTime: ctx.timestamp, command: name, args: args ?? null };
    this.tail.push(entry);
    this.appliedIndex = entry.index;
    const link = this.link;
    if (!link?.up) return this.unavailable(entry.index);
    this.machineIndex = entry.index;
    return link.request({ type: 'apply', ...entry }).then(
      (r) => {
        this.maybeCheckpoint();
        return this.resultOf(r);
      },
      () => this.unavailable(entry.index),
    );
  }

  checkQuery(name: string, args: unknown): void {
    checkRemoteArgs(this.operation('query', name), args);
    if (!this.connected) throw this.away('the query was not run');
  }

  async executeQuery(name: string, args: unknown): Promise<unknown> {
    const link = this.link;
    if (!link?.up) throw this.away('the query was not run');
    let r: ResultMessage;
    try {
      r = await link.request({ type: 'query', name, args: args ?? {} });
    } catch (e) {
      throw new RaftkitError('unavailable', `the state machine "${this.type}" of group "${this.o.group}" did not answer the query: ${(e as { message: string }).message}`);
    }
    if (r.error) throw new RaftkitError(isErrorCode(r.error.code) ? r.error.code : 'internal', r.error.message, r.error.details ?? {});
    return r.result ?? null;
  }

  captureState(): unknown {
    const s: RemoteSnapshotState = { declared: this.declared ?? null, checkpoint: this.checkpoint, tail: this.tail.slice() };
    return s;
  }

  restoreState(state: unknown): void {
    if (!isRecord(state) || !isRecord(state.checkpoint) || !Array.isArray(state.tail)) {
      throw new RaftkitError('bad_request', `the snapshot of group "${this.o.group}" does not hold a remote machine's state`);
    }
    const cp = state.checkpoint as { index?: unknown; state?: unknown };
    if (!Number.isSafeInteger(cp.index)) throw new RaftkitError('bad_request', "the snapshot's checkpoint has no index");
    this.declared = isRecord(state.declared) ? (state.declared as unknown as MachineDeclaration) : this.declared;
    this.checkpoint = { index: cp.index as number, state: cp.state ?? null };
    this.tail = (state.tail as ApplyEntry[]).slice();
    this.appliedIndex = this.tail.length > 0 ? this.tail[this.tail.length - 1]!.index : this.checkpoint.index;
    const link = this.link;
    if (link?.up) this.resync(link, -1);
    else this.machineIndex = -1;
  }

  // ------------------------------------------------------------------ connection

  /**
   * Checks a machine's hello against what this node expects; the reason to refuse it, or
   * undefined to accept it.
   */
  refusal(hello: HelloMessage): { code: 'bad_request' | 'conflict'; message: string } | undefined {
    if (hello.name !== this.type) {
      return { code: 'bad_request', message: `group "${this.o.group}" runs state machine "${this.type}", not "${hello.name}"` };
    }
    if (hello.version !== this.o.version) {
      return {
        code: 'bad_request',
        message: `group "${this.o.group}" runs "${this.type}" version ${this.o.version} (node ${this.o.nodeId}'s --remote-machine), the machine is version ${hello.version}`,
      };
    }
    const d = this.declared;
    if (d && d.version === hello.version && !sameOperations(d, hello)) {
      return {
        code: 'bad_request',
        message: `the machine declares other commands or queries than "${this.type}" version ${hello.version} did before (${describe(d)}; now ${describe(hello)}): give a changed machine a new version`,
      };
    }
    if (this.connected) return { code: 'conflict', message: `a machine is already connected for group "${this.o.group}" on node ${this.o.nodeId}` };
    return undefined;
  }

  /** Takes an accepted machine: brings it to the group's state and makes it the group's link. */
  attach(link: MachineLink, hello: HelloMessage): void {
    this.declared = { name: hello.name, version: hello.version, commands: hello.commands, queries: hello.queries };
    this.link = link;
    this.resync(link, hello.lastIndex);
    this.setState('connected', undefined);
  }

  /** The link went down (closed, timed out, broke the protocol). */
  detach(link: MachineLink, failure: { kind: string; message: string }): void {
    if (this.link !== link) return;
    this.link = undefined;
    this.checkpointing = false;
    if (failure.kind === 'closed') this.setState('waiting', failure.message);
    else {
      this.failures++;
      this.setState('failed', failure.message);
    }
  }

  /** Sends what the machine lacks after `lastIndex`: from there, or the checkpoint and all the tail. */
  private resync(link: MachineLink, lastIndex: number): void {
    const resumable = lastIndex === this.checkpoint.index || (lastIndex > this.checkpoint.index && this.tail.some((e) => e.index === lastIndex));
    let from = lastIndex;
    if (!resumable || lastIndex > this.appliedIndex) {
      link.post({ type: 'restore', index: this.checkpoint.index, state: this.checkpoint.state });
      from = this.checkpoint.index;
    }
    for (const e of this.tail) if (e.index > from) link.post({ type: 'apply', replay: true, ...e });
    this.machineIndex = this.appliedIndex;
  }

  private setState(state: MachineState, message: string | undefined): void {
    this.state = state;
    this.message = message;
    this.o.onStateChange?.(this);
  }

  private maybeCheckpoint(): void {
    const link = this.link;
    if (this.checkpointing || !link?.up || this.tail.length < CHECKPOINT_EVERY) return;
    this.checkpointing = true;
    const at = this.machineIndex;
    link.request({ type: 'snapshot' }).then(
      (r) => {
        this.checkpointing = false;
        if (r.error || r.index !== at) return; // tried again after the next entries
        this.checkpoint = { index: at, state: r.result ?? null };
        this.tail = this.tail.filter((e) => e.index > at);
      },
      () => {
        this.checkpointing = false;
      },
    );
  }

  private resultOf(r: ResultMessage): unknown {
    if (r.error) return new CommandErrorResult(r.error.code, r.error.message, r.error.details);
    return r.result ?? null;
  }

  private unavailable(index: number): CommandErrorResult {
    return new CommandErrorResult(
      'result_unavailable',
      `the state machine "${this.type}" of group "${this.o.group}" was not connected to node ${this.o.nodeId} when entry ${index} applied: it takes effect once when the machine is back; its result is not known here`,
    );
  }
}

function describe(d: MachineDeclaration): string {
  return `commands ${d.commands.map((c) => c.name).join(', ') || 'none'}, queries ${d.queries.map((q) => q.name).join(', ') || 'none'}`;
}
