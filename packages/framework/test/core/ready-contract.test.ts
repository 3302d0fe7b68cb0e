// The Ready/advance contract: everything a message depends on (entries, term, vote) is in the
// same or an earlier Ready, to be persisted before the message is sent; committed entries are
// handed out once, in order, and only if durable; a restart from storage keeps term, vote and log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, dec, enc, seeded, type TestNode } from './harness.js';
import { MemoryStorage } from '../../src/core/memory-storage.js';
import { RawNode } from '../../src/core/raw-node.js';
import { makeMessage } from '../../src/core/raft.js';
import { RaftError } from '../../src/core/errors.js';
import { emptyConfState } from '../../src/core/conf-state.js';
import { EntryType, MessageType, Role, type Ready } from '../../src/core/types.js';

/** Checks every Ready against the contract; returns the list of violations found. */
function watchContract(c: Cluster): string[] {
  const violations: string[] = [];
  const nextApply = new Map<RawNode, number>();
  const appliedAt = new Map<number, string>(); // index -> "term:data" applied by anyone
  c.onReady = (n: TestNode, rd: Ready) => {
    const v = (s: string) => violations.push(`node ${n.id}: ${s}`);
    const prev = n.storage.initialState().hardState;
    const hs = rd.hardState ?? prev;
    // The durable log once this Ready is persisted.
    const durableLast = rd.entries.length > 0 ? rd.entries[rd.entries.length - 1]!.index : rd.snapshot ? rd.snapshot.metadata.index : n.storage.lastIndex();
    const durableTerm = (i: number): number | undefined => {
      const e = rd.entries.find((x) => x.index === i);
      if (e) return e.term;
      if (rd.snapshot && rd.snapshot.metadata.index === i) return rd.snapshot.metadata.term;
      if (rd.entries.length > 0 && i >= rd.entries[0]!.index) return undefined;
      try {
        return n.storage.term(i);
      } catch {
        return undefined;
      }
    };
    if (rd.entries.length > 0 && !rd.mustSync) v('entries without mustSync');
    if ((hs.term !== prev.term || hs.vote !== prev.vote) && !rd.mustSync) v('term/vote change without mustSync');
    if (hs.commit > durableLast) v(`hard state commit ${hs.commit} beyond the durable log ${durableLast}`);
    for (const m of rd.messages) {
      if (m.from !== n.id) v(`message from ${m.from}`);
      if (m.type === MessageType.VoteResponse && !m.reject && (hs.vote !== m.to || hs.term !== m.term)) {
        v(`vote for ${m.to} in term ${m.term} sent before it is durable (hard state ${JSON.stringify(hs)})`);
      }
      if (m.type === MessageType.Vote && (hs.vote !== n.id || hs.term !== m.term)) v('campaign before its own vote is durable');
      if (m.type === MessageType.AppendResponse && !m.reject && m.index > durableLast) {
        v(`acknowledged index ${m.index} beyond the durable log ${durableLast}`);
      }
      if (m.type === MessageType.Append) {
        for (const e of m.entries) {
          const t = durableTerm(e.index);
          if (t !== e.term) v(`sent entry ${e.index}@${e.term} that is not durable (durable term ${t})`);
        }
      }
      const future = m.type === MessageType.PreVote || m.type === MessageType.PreVoteResponse; // carry the next term
      if (!future && m.type !== MessageType.ReadIndex && m.term !== 0 && m.term > hs.term) v(`message of term ${m.term} ahead of durable term ${hs.term}`);
    }
    if (rd.snapshot) nextApply.set(n.node, rd.snapshot.metadata.index + 1);
    for (const e of rd.committedEntries) {
      const want = nextApply.get(n.node) ?? n.node.inspectLog().applied + 1;
      if (e.index !== want) v(`applied ${e.index}, expected ${want}`);
      nextApply.set(n.node, e.index + 1);
      if (e.index > hs.commit) v(`applied ${e.index} beyond commit ${hs.commit}`);
      if (e.index > durableLast || durableTerm(e.index) !== e.term) v(`applied ${e.index} that is not durable`);
      if (e.type === EntryType.Normal) {
        const key = `${e.term}:${dec(e.data)}`;
        const seen = appliedAt.get(e.index);
        if (seen !== undefined && seen !== key) v(`state machine safety: index ${e.index} applied as ${key} here and ${seen} elsewhere`);
        appliedAt.set(e.index, key);
      }
    }
  };
  return violations;
}

test('a randomized run with partitions, crashes and compaction never breaks the Ready contract', () => {
  const ids = [1, 2, 3, 4, 5];
  const c = new Cluster({ voters: ids });
  const violations = watchContract(c);
  const rnd = seeded(2024);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  let writes = 0;
  for (let step = 0; step < 600; step++) {
    const r = rnd();
    if (r < 0.55) c.tickAll(1);
    else if (r < 0.8) {
      const l = c.leader();
      if (l) {
        try {
          c.propose(l.id, `w${writes++}`);
        } catch (e) {
          if (!(e instanceof RaftError)) throw e;
        }
      }
    } else if (r < 0.86) c.isolate(pick(ids));
    else if (r < 0.91) c.heal();
    else if (r < 0.95) {
      const up = ids.filter((id) => !c.get(id).down);
      if (up.length > 3) c.crash(pick(up));
    } else if (r < 0.98) {
      const down = ids.filter((id) => c.get(id).down);
      if (down.length > 0) c.restart(pick(down));
    } else {
      const l = c.leader();
      if (l && l.node.inspectLog().applied > l.storage.snapshot().metadata.index) c.snapshotAndCompact(l.id);
    }
  }
  assert.deepEqual(violations.slice(0, 5), []);
  assert.ok(writes > 50, `only ${writes} writes were attempted`);
  // The run did exercise the interesting paths.
  const maxTerm = Math.max(...ids.map((id) => c.get(id).node.term));
  assert.ok(maxTerm >= 4, `only ${maxTerm - 1} elections`);
  assert.ok(c.countSent(MessageType.Snapshot) >= 1, 'no snapshot was sent');
  assert.ok(Math.max(...ids.map((id) => c.committed(id))) > 60, 'little was committed');
});

test('ready() twice without advance() is refused; hasReady() is false meanwhile', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  const n = c.get(1).node;
  n.campaign();
  assert.equal(n.hasReady(), true);
  const rd = n.ready();
  assert.equal(n.hasReady(), false);
  assert.throws(() => n.ready(), /before advance/);
  assert.throws(() => n.advance({ ...rd }), /outstanding/);
  n.advance(rd);
  assert.equal(n.hasReady(), false, 'nothing new after the campaign Ready');
});

test('a campaign Ready carries the new term and self-vote with mustSync before the vote requests', () => {
  const c = new Cluster({ voters: [1, 2, 3], config: { preVote: false } });
  const n = c.get(1).node;
  n.campaign();
  const rd = n.ready();
  // Founding members start at term 1 with the founding snapshot (index 1) committed.
  assert.deepEqual(rd.hardState, { term: 2, vote: 1, commit: 1 });
  assert.equal(rd.mustSync, true);
  assert.equal(rd.messages.filter((m) => m.type === MessageType.Vote).length, 2);
  assert.deepEqual(rd.softState, { lead: 0, role: Role.Candidate });
  n.advance(rd);
});

test('a pre-vote Ready changes nothing durable', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  const n = c.get(1).node;
  n.campaign();
  const rd = n.ready();
  assert.equal(rd.hardState, undefined);
  assert.equal(rd.mustSync, false);
  assert.equal(rd.messages.filter((m) => m.type === MessageType.PreVote).length, 2);
  n.advance(rd);
});

test('a commit-only change needs no sync; soft state is reported only when it changes', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  c.recordReadies = true;
  c.propose(1, 'x');
  const leader = c.readies.filter((r) => r.id === 1);
  assert.ok(leader.every((r) => r.rd.softState === undefined));
  const commitOnly = leader.filter((r) => r.rd.entries.length === 0 && r.rd.hardState !== undefined);
  assert.ok(commitOnly.length > 0);
  for (const r of commitOnly) assert.equal(r.rd.mustSync, false);
});

test('restart from storage keeps term, vote, commit and log, and re-applies committed entries', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  for (const v of ['a', 'b', 'c']) c.propose(1, v);
  const hs = c.status(2).hardState;
  const log = c.logTerms(2);
  assert.equal(hs.vote, 1);
  c.crash(2);
  const n = c.restart(2);
  assert.deepEqual(n.node.status().hardState, hs);
  assert.deepEqual(c.logTerms(2), log);
  assert.equal(n.node.term, hs.term);
  assert.equal(n.node.role, Role.Follower);
  c.stabilize();
  assert.deepEqual(c.data(2), ['a', 'b', 'c']);
  c.propose(1, 'd');
  assert.deepEqual(c.data(2), ['a', 'b', 'c', 'd']);
});

test('a restarted node that voted in a term does not vote for someone else in that term', () => {
  const c = new Cluster({ voters: [1, 2, 3], config: { preVote: false, checkQuorum: false } });
  c.campaign(1);
  const term = c.get(3).node.term;
  c.crash(3);
  const n = c.restart(3).node;
  n.step(makeMessage({ type: MessageType.Vote, from: 2, to: 3, term, index: 100, logTerm: term }));
  const rd = n.ready();
  const resp = rd.messages.filter((m) => m.type === MessageType.VoteResponse);
  assert.equal(resp.length, 1);
  assert.equal(resp[0]!.reject, true);
  n.advance(rd);
});

test('RawNode.step refuses local message types', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  for (const type of [MessageType.Hup, MessageType.Beat, MessageType.Propose, MessageType.CheckQuorum, MessageType.Unreachable, MessageType.SnapshotStatus]) {
    assert.throws(
      () => c.get(1).node.step(makeMessage({ type, from: 2, to: 1 })),
      (e: unknown) => e instanceof RaftError && e.code === 'step_local_message',
    );
  }
  assert.equal(c.get(1).node.role, Role.Follower);
});

test('a hard state whose commit lies outside the log is refused at start-up', () => {
  const s = MemoryStorage.bootstrap({ ...emptyConfState(), voters: [1] });
  s.append([{ term: 1, index: 1, type: EntryType.Normal, data: enc('x') }]);
  s.setHardState({ term: 1, vote: 1, commit: 5 });
  assert.throws(
    () => new RawNode({ id: 1, electionTick: 10, heartbeatTick: 1, storage: s, random: () => 0 }),
    (e: unknown) => e instanceof RaftError && e.code === 'config_invalid',
  );
});

test('bad configurations are refused', () => {
  const storage = MemoryStorage.bootstrap({ ...emptyConfState(), voters: [1] });
  const base = { id: 1, electionTick: 10, heartbeatTick: 1, storage, random: () => 0 };
  const bad = (over: object) =>
    assert.throws(
      () => new RawNode({ ...base, ...over }),
      (e: unknown) => e instanceof RaftError && e.code === 'config_invalid',
      JSON.stringify(over),
    );
  bad({ id: 0 });
  bad({ id: 1.5 });
  bad({ heartbeatTick: 0 });
  bad({ electionTick: 1 });
  bad({ maxInflightMsgs: 0 });
  bad({ maxSizePerMsg: 100, maxInflightBytes: 50 });
  bad({ random: undefined });
});
