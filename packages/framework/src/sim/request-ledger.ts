// The late-proposals scenario's global record, and its invariants. Every data node reports each
// entry it applies with the request table's verdict; the ledger knows every command's key and
// whether its origin still waits for it, so it can tell, at the first node that goes wrong:
//  - a command applied (admitted as new) at two different log indexes: applied twice;
//  - a copy refused as a duplicate of anything but the index where the command was applied;
//  - a copy refused as expired while its origin still waits for it (the floor moved too far);
//  - two nodes whose request tables judged one index differently (a running checksum of the
//    verdicts per index, compared like the checker compares the applied data).

import type { NodeId } from '../core/types.js';
import { formatRequestKey, type RequestKey, type RequestVerdict } from '../rsm/request-table.js';
import { mix } from './hash.js';
import type { CommandPayload } from './request-payload.js';
import type { Invariant } from './violation.js';

export interface LedgerStats {
  /** Distinct commands admitted as new. */
  commandsApplied: number;
  /** Copies the table refused as duplicates (counted once per log index). */
  duplicatesRefused: number;
  /** Copies the table refused because their origin had stopped waiting. */
  expiredRefused: number;
  /** Request windows dropped by expiry (once per log index). */
  windowsExpired: number;
}

const VERDICT_CODE = { new: 1, duplicate: 2, expired: 3 } as const;

/** Folds one applied entry and its verdict into a node's verdict checksum. */
export function foldVerdict(h: number, index: number, command: number, verdict: RequestVerdict | undefined): number {
  h = mix(h, index);
  return verdict ? mix(mix(h, VERDICT_CODE[verdict.kind]), command) : h;
}

export class RequestLedger {
  readonly stats: LedgerStats = { commandsApplied: 0, duplicatesRefused: 0, expiredRefused: 0, windowsExpired: 0 };
  private readonly keys = new Map<number, string>();
  private readonly released = new Set<number>();
  private readonly firstApplied = new Map<number, number>();
  /** The verdict checksum after each index, as the first node to get there computed it. */
  private readonly verdicts = new Map<number, number>();

  constructor(readonly fail: (invariant: Invariant, detail: string) => never) {}

  /** The front end gave `command` its key. */
  issued(command: number, key: RequestKey): void {
    this.keys.set(command, formatRequestKey(key));
  }

  /** The origin stopped waiting for `command` (answered or given up) and released its key. */
  release(command: number): void {
    this.released.add(command);
  }

  /** The index where `command` was applied, if it was. */
  appliedAt(command: number): number | undefined {
    return this.firstApplied.get(command);
  }

  /**
   * Node `n` applied entry `index`; `checksum` is its verdict checksum after it. `cmd` is absent
   * for entries that carry no command (no-ops, configuration changes, the liveness probe).
   */
  applied(n: NodeId, index: number, checksum: number, cmd?: { payload: CommandPayload; verdict: RequestVerdict; windowsDropped: number }): void {
    const first = !this.verdicts.has(index);
    this.match(n, index, checksum);
    if (!cmd) return;
    const { payload, verdict } = cmd;
    const id = payload.command;
    const key = formatRequestKey(payload.key);
    if (this.keys.get(id) !== key) this.fail('at-most-once', `entry ${index} carries command c${id} with request key ${key}, but c${id} was issued key ${this.keys.get(id)}`);
    const at = this.firstApplied.get(id);
    switch (verdict.kind) {
      case 'new':
        if (at === undefined) this.firstApplied.set(id, index);
        else if (at !== index) this.fail('at-most-once', `command c${id} (request ${key}) was applied at index ${at} and again at index ${index} (node ${n})`);
        break;
      case 'duplicate':
        if (at !== verdict.index || verdict.result !== id) {
          this.fail(
            'at-most-once',
            `node ${n} refused entry ${index} (c${id}) as a duplicate of index ${verdict.index} with result ${String(verdict.result)}, but c${id} was applied at ${at ?? 'no index'}`,
          );
        }
        break;
      case 'expired':
        if (!this.released.has(id))
          this.fail('at-most-once', `node ${n} refused entry ${index} (c${id}, request ${key}) as expired (floor ${verdict.floor}) while its origin still waits for it`);
        break;
    }
    if (!first) return;
    if (verdict.kind === 'new') this.stats.commandsApplied++;
    else if (verdict.kind === 'duplicate') this.stats.duplicatesRefused++;
    else this.stats.expiredRefused++;
    this.stats.windowsExpired += cmd.windowsDropped;
  }

  /** Node `n` restored a request table from a snapshot at `index`. */
  restored(n: NodeId, index: number, checksum: number): void {
    this.match(n, index, checksum);
  }

  private match(n: NodeId, index: number, checksum: number): void {
    const known = this.verdicts.get(index);
    if (known === undefined) this.verdicts.set(index, checksum);
    else if (known !== checksum) this.fail('at-most-once', `node ${n}'s request table judged the history up to index ${index} differently from another node's`);
  }
}
