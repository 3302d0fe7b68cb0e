// Every one-click scenario builds, shows what it is named for, and replays identically in the
// simulator's session runner.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runSession } from '@raftkit/framework/sim';
import { Emulator, SCENARIOS, scenario, type Frame } from '../src/engine/index.js';

const lines = (frames: readonly Frame[]) => frames.flatMap((f) => f.lines);

describe('scenarios', () => {
  for (const def of SCENARIOS) {
    test(`${def.id}: builds the same session twice and replays in the simulator`, () => {
      const s = def.build();
      assert.deepEqual(def.build(), s);
      const em = new Emulator(s);
      assert.deepEqual(runSession(s), em.outcome());
    });
  }

  test('split vote: a term passes with two candidates and no leader', () => {
    const em = new Emulator(scenario('split-vote').build());
    const all = lines(em.frames);
    assert.ok(all.some((l) => /n1 is candidate term 2/.test(l)));
    assert.ok(all.some((l) => /n2 is candidate term 2/.test(l)));
    assert.ok(!all.some((l) => /is leader term 2/.test(l)));
    assert.ok(all.some((l) => /is leader term [3-9]/.test(l)));
  });

  test('partition and heal: a new leader in a higher term, and the old one follows it after the heal', () => {
    const em = new Emulator(scenario('partition-heal').build());
    const terms = em.frame.nodes.map((n) => n.term);
    assert.ok(terms.every((t) => t === terms[0] && t > 2));
    assert.equal(em.frame.nodes.filter((n) => n.role === 'leader').length, 1);
    assert.equal(new Set(em.frame.nodes.map((n) => n.dataChecksum)).size, 1);
  });

  test('snapshot install: the lagging follower gets a Snapshot message and installs it', () => {
    const em = new Emulator(scenario('snapshot-install').build());
    assert.ok(lines(em.frames).some((l) => / installs snapshot /.test(l)));
    assert.equal(new Set(em.frame.nodes.map((n) => `${n.historyIndex}/${n.dataChecksum}`)).size, 1);
  });

  test('membership: n5 in, n1 out, through a joint configuration', () => {
    const em = new Emulator(scenario('membership').build());
    const leader = em.frame.nodes.find((n) => n.role === 'leader')!;
    assert.match(leader.conf, /^voters 2,3,4,5$/);
    assert.ok(em.frames.some((f) => f.nodes.some((n) => n.conf.includes('outgoing'))));
  });

  test('leader transfer: the target leads the next term', () => {
    const s = scenario('leader-transfer').build();
    const transfer = s.actions.find((t) => t.action.do === 'transfer')!.action as { leader: number; to: number };
    const em = new Emulator(s);
    const leader = em.frame.nodes.find((n) => n.role === 'leader')!;
    assert.equal(leader.id, transfer.to);
    assert.ok(lines(em.frames).some((l) => l.includes(`TimeoutNow ${transfer.leader}->${transfer.to}`)));
  });

  test('figure 8 with the commit-previous-term bug breaks an invariant; without it nothing breaks', () => {
    assert.match(runSession(scenario('figure8-bug').build()).violation!, /leader-completeness/);
    assert.equal(runSession(scenario('figure8').build()).violation, undefined);
  });
});
