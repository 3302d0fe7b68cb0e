// The group-commit write (worker side): every write the caller's thread coalesced arrives as one
// request and becomes one transaction, hence one fsync, for all the groups in it. This is the hot
// path: statements are prepared once per open (sqlite-schema.ts) and entries are read straight
// out of the packed buffer the request transferred, with no per-entry objects.
import { entryCrc, groupCrc, rowCrc } from './checksum.js';
import { CRC_BYTES, confJson, historyText, hsText, membershipText, snapText } from './records.js';
import type { Maintenance } from './sqlite-maintenance.js';
import type { Db, GroupRow, Statements } from './sqlite-schema.js';
import type { WireOp, WorkerRequest } from './wire.js';

export class GroupWriter {
  /** The group rows as committed, by name (filled at open, see sqlite-recovery.ts). */
  readonly groups = new Map<string, GroupRow>();
  private batchSeq = 0;

  constructor(
    private readonly db: Db,
    private readonly st: Statements,
    private readonly maintenance: Maintenance,
  ) {}

  /** Writes go on numbering transactions after the last one found on disk. */
  resumeAfter(lastBatch: number): void {
    this.batchSeq = lastBatch;
  }

  write(req: Extract<WorkerRequest, { kind: 'write' }>): void {
    const batch = ++this.batchSeq;
    const data = Buffer.from(req.data);
    const { terms, types, ends } = req;
    const crcs = Buffer.allocUnsafe(terms.length * CRC_BYTES);
    const st = this.st;
    const maintenance = this.maintenance;
    let compacted = false;
    const removedNames: string[] = [];
    const added: GroupRow[] = [];
    const retyped: [GroupRow, string][] = [];
    const lookup = (name: string): GroupRow | undefined => {
      for (let i = added.length - 1; i >= 0; i--) if (added[i]!.name === name) return added[i];
      if (removedNames.includes(name)) return undefined;
      return this.groups.get(name);
    };
    const tx = this.db.transaction((ops: WireOp[]) => {
      for (const op of ops) {
        let g = lookup(op.group);
        if (!g && op.remove) continue; // nothing stored, and whatever else this op holds goes too
        if (!g) {
          const prefix = groupCrc(op.group);
          const type = op.type ?? '';
          const info = st.insGroup.run(op.group, type, rowCrc(prefix, type), batch);
          g = { gid: Number(info.lastInsertRowid), name: op.group, type, prefix };
          added.push(g);
        } else if (op.type !== undefined && op.type !== g.type) {
          st.updGroup.run(op.type, rowCrc(g.prefix, op.type), batch, g.gid);
          retyped.push([g, op.type]);
        }
        const gid = g.gid;
        if (op.snapshot) {
          maintenance.forgetTrim(gid);
          st.delAll.run(gid);
          const cs = confJson(op.snapshot.confState);
          const h = historyText(op.snapshot.history);
          st.putSnap.run(gid, op.snapshot.index, op.snapshot.term, cs, rowCrc(g.prefix, snapText(op.snapshot.index, op.snapshot.term, cs, h)), batch, h);
        }
        if (op.count > 0) {
          st.delFrom.run(gid, op.first);
          let start = op.at === 0 ? 0 : ends[op.at - 1]!;
          for (let i = 0; i < op.count; i++) {
            const k = op.at + i;
            const end = ends[k]!;
            const d = data.subarray(start, end);
            const idx = op.first + i;
            const term = terms[k]!;
            const type = types[k]!;
            const crc = crcs.subarray(k * CRC_BYTES, k * CRC_BYTES + CRC_BYTES);
            crc.writeUInt32BE(entryCrc(g.prefix, idx, term, type, d), 0);
            st.insEntry.run(gid, idx, term, type, d, crc, batch);
            start = end;
          }
        }
        if (op.hardState) {
          const hs = op.hardState;
          st.putHs.run(gid, hs.term, hs.vote, hs.commit, rowCrc(g.prefix, hsText(hs)), batch);
        }
        if (op.membership) {
          const cs = confJson(op.membership.confState);
          st.putMember.run(gid, cs, op.membership.appliedIndex, rowCrc(g.prefix, membershipText(cs, op.membership.appliedIndex)), batch);
        }
        if (op.compact) {
          const s = op.compact.snapshot;
          maintenance.trimThrough(gid, op.compact.compactTo);
          const cs = confJson(s.confState);
          const h = historyText(s.history);
          st.putSnap.run(gid, s.index, s.term, cs, rowCrc(g.prefix, snapText(s.index, s.term, cs, h)), batch, h);
          compacted = true;
        }
        if (op.remove) {
          maintenance.forgetTrim(gid);
          st.delAll.run(gid);
          st.delHs.run(gid);
          st.delMember.run(gid);
          st.delSnap.run(gid);
          st.delGroup.run(gid);
          const i = added.indexOf(g);
          if (i >= 0) added.splice(i, 1);
          else removedNames.push(op.group);
          compacted = true;
        }
      }
      maintenance.trimWithWrite();
    });
    const trims = maintenance.trimsBeforeWrite();
    try {
      tx(req.ops);
    } catch (e) {
      // Rolled back: a compaction marked inside it did not happen, its rows are live.
      maintenance.rollBack(trims);
      throw e;
    }
    // Committed: mirror the group rows.
    for (const name of removedNames) this.groups.delete(name);
    for (const g of added) this.groups.set(g.name, g);
    for (const [g, type] of retyped) g.type = type;
    maintenance.wrote(compacted);
  }
}
