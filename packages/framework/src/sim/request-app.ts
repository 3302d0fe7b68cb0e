// The application each data node runs in the late-proposals scenario, beside the checksums: the
// production RequestTable, driven exactly as StateMachineManager drives it. In apply order, each
// command entry moves the entry clock (the largest proposal timestamp so far, so it never runs
// backwards when an old copy commits late), expires idle origins by it, and is admitted: only
// a 'new' verdict applies the command, and its result is recorded. The table rides in the
// node's snapshots (toTuples/fromTuples), so a restart or a snapshot install keeps it.

import { EntryType, type Entry } from '../core/types.js';
import type { SimNode } from './sim-node.js';
import { RequestTable, type RequestVerdict } from '../rsm/request-table.js';
import { HASH_START } from './hash.js';
import { decodeCommand, type CommandPayload } from './request-payload.js';
import { foldVerdict, type RequestLedger } from './request-ledger.js';
import type { AppExtension } from './sim-app.js';

export interface RequestAppOptions {
  /** The table's time-to-live for an idle origin, in virtual time units. */
  ttl: number;
  /**
   * false applies every copy without asking the table: the control that shows the scenario does
   * produce duplicates (a test-only switch, no flag of the CLI).
   */
  dedupe: boolean;
}

/** Told of every applied command entry, with its verdict (the front end answers its sender). */
export type AppliedListener = (node: SimNode, e: Entry, payload: CommandPayload, verdict: RequestVerdict) => void;

const NEW: RequestVerdict = { kind: 'new' };

interface SnapshotBody {
  clock: number;
  checksum: number;
  requests: unknown;
}

export class RequestApp implements AppExtension {
  private clock = 0;
  private table: RequestTable;
  /** foldVerdict over every applied entry: compared between nodes by the ledger. */
  private checksum = HASH_START;

  constructor(
    private readonly node: SimNode,
    private readonly options: RequestAppOptions,
    private readonly ledger: RequestLedger,
    private readonly onApplied: AppliedListener,
  ) {
    this.table = new RequestTable(options.ttl);
  }

  apply(e: Entry): void {
    const payload = e.type === EntryType.Normal ? decodeCommand(e.data) : undefined;
    if (!payload) {
      this.checksum = foldVerdict(this.checksum, e.index, 0, undefined);
      this.ledger.applied(this.node.id, e.index, this.checksum);
      return;
    }
    let windowsDropped = 0;
    let verdict = NEW;
    if (this.options.dedupe) {
      this.clock = Math.max(this.clock, payload.timestamp);
      windowsDropped = this.table.expire(this.clock);
      verdict = this.table.admit(payload.key, this.clock);
      // The "result" of a command is its id: a duplicate's answer must name the first copy's.
      if (verdict.kind === 'new') this.table.record(payload.key, payload.command, e.index);
    }
    this.checksum = foldVerdict(this.checksum, e.index, payload.command, verdict);
    this.ledger.applied(this.node.id, e.index, this.checksum, { payload, verdict, windowsDropped });
    this.onApplied(this.node, e, payload, verdict);
  }

  snapshot(): Uint8Array {
    const body: SnapshotBody = { clock: this.clock, checksum: this.checksum, requests: this.table.toTuples() };
    return new TextEncoder().encode(JSON.stringify(body));
  }

  restore(bytes: Uint8Array | undefined, index: number): void {
    if (bytes === undefined) {
      this.clock = 0;
      this.checksum = HASH_START;
      this.table = new RequestTable(this.options.ttl);
    } else {
      const body = this.parse(bytes, index);
      this.clock = body.clock;
      this.checksum = body.checksum;
      try {
        this.table = RequestTable.fromTuples(this.options.ttl, body.requests);
      } catch (e) {
        this.ledgerFail(index, `its request table does not load: ${(e as Error).message}`);
      }
      // fromTuples must rebuild exactly what toTuples wrote, use order included: expiry and the
      // verdicts of later copies depend on it.
      if (JSON.stringify(this.table.toTuples()) !== JSON.stringify(body.requests)) this.ledgerFail(index, 'its request table does not round-trip through toTuples/fromTuples');
    }
    this.ledger.restored(this.node.id, index, this.checksum);
  }

  private parse(bytes: Uint8Array, index: number): SnapshotBody {
    let body: Partial<SnapshotBody> | undefined;
    try {
      body = JSON.parse(new TextDecoder().decode(bytes)) as Partial<SnapshotBody>;
    } catch {
      body = undefined;
    }
    if (!body || typeof body.clock !== 'number' || typeof body.checksum !== 'number') this.ledgerFail(index, 'its request-table bytes are malformed');
    return body as SnapshotBody;
  }

  private ledgerFail(index: number, why: string): never {
    return this.ledger.fail('state-machine-safety', `node ${this.node.id} restored snapshot ${index}, but ${why}`);
  }
}
