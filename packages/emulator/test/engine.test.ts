// The engine under Node: determinism (same seed and actions, same trace hash, here and in the
// simulator's own session runner), step back then forward, time travel and forks, breakpoints
// that stop at the first matching event, faults on chosen messages, refused actions.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runSession, type SessionAction } from '@raftkit/framework/sim';
import { Emulator, EmulatorError, newSession, type Frame } from '../src/engine/index.js';

/** A session with a leader, a write, a partition of the leader and a heal. */
function scripted(seed = 3): Emulator {
  const em = new Emulator(newSession(seed, 3));
  em.breakpoints = [{ kind: 'leader-elected' }];
  assert.ok(em.runUntilBreakpoint(5000).hit);
  const leader = em.leader!;
  em.act({ do: 'propose', node: leader, count: 2 });
  for (let i = 0; i < 40; i++) em.stepForward();
  em.act({ do: 'partition', groups: [[leader], [1, 2, 3].filter((id) => id !== leader)] });
  for (let i = 0; i < 300; i++) em.stepForward();
  em.act({ do: 'heal' });
  for (let i = 0; i < 100; i++) em.stepForward();
  return em;
}

const state = (f: Frame) => JSON.stringify(f.nodes);

describe('emulator engine', () => {
  test('same seed and actions give the same trace hash and checksums, in the emulator and in the simulator', () => {
    const a = scripted();
    const b = scripted();
    assert.deepEqual(a.outcome(), b.outcome());
    const exported = a.exportSession();
    assert.deepEqual(runSession(exported), exported.expect);
    // A different seed is a different run.
    assert.notEqual(scripted(4).outcome().traceHash, a.outcome().traceHash);
    // And loading the exported session gives the same run again.
    assert.deepEqual(new Emulator(exported).outcome(), exported.expect);
  });

  test('step back then forward reproduces the state, frame for frame', () => {
    const em = scripted();
    const end = em.position;
    const frames = em.frames.map(state);
    const outcome = em.outcome();
    const session = em.exportSession();
    em.stepBack();
    assert.equal(em.position, end - 1);
    assert.equal(state(em.frame), frames[end - 1]);
    // The core itself is back there, not only the frames: same outcome as a fresh run to that step.
    assert.deepEqual(em.outcome(), new Emulator(session, { at: end - 1 }).outcome());
    assert.deepEqual(em.outcome(), runSession({ ...session, steps: end - 1 }));
    em.stepForward();
    assert.equal(state(em.frame), frames[end]);
    em.goto(17);
    assert.equal(em.position, 17);
    assert.equal(state(em.frame), frames[17]);
    em.goto(end);
    assert.deepEqual(em.frames.map(state), frames);
    assert.deepEqual(em.outcome(), outcome);
  });

  test('an action taken back in time forks the timeline: later actions are dropped', () => {
    const em = scripted();
    const actions = em.session.actions.length;
    const at = em.session.actions[1]!.step; // the partition's step
    em.goto(at - 1);
    const { dropped } = em.act({ do: 'crash', node: 1 });
    assert.equal(dropped, actions - 1);
    assert.equal(em.session.actions.length, 2);
    assert.equal(em.frame.nodes.find((n) => n.id === 1)!.up, false);
    // The fork replays as its own session.
    const exported = em.exportSession();
    assert.deepEqual(runSession(exported), exported.expect);
  });

  test('breakpoints stop at the first matching event', () => {
    const em = new Emulator(newSession(3, 3));
    em.breakpoints = [{ kind: 'leader-elected' }];
    const r = em.runUntilBreakpoint(5000);
    assert.match(r.hit!, /became leader of term 2/);
    // No earlier step had a leader: the stop is the first.
    assert.ok(em.frames.slice(0, -1).every((f) => f.nodes.every((n) => n.role !== 'leader')));
    assert.ok(em.frame.nodes.some((n) => n.role === 'leader'));

    em.breakpoints = [{ kind: 'commit-reaches', index: 4 }];
    em.act({ do: 'propose', node: em.leader!, count: 2 });
    assert.match(em.runUntilBreakpoint(5000).hit!, /committed up to 4/);
    assert.ok(em.frames.slice(0, -1).every((f) => f.nodes.every((n) => n.commit < 4)));

    em.breakpoints = [{ kind: 'message-sent', type: 'Vote' }];
    const leader = em.leader!;
    em.act({ do: 'crash', node: leader });
    const hit = em.runUntilBreakpoint(5000).hit!;
    assert.match(hit, /^sent Vote /);
    const at = em.position;
    assert.ok(
      em.messagesBetween(0, at - 1).every((m) => m.type !== 'Vote' || m.term < 3),
      'a Vote of the new election was sent before the stop',
    );
  });

  test('term-above fires when the condition becomes true, not while it stays true', () => {
    const em = new Emulator(newSession(3, 3));
    em.breakpoints = [{ kind: 'term-above', term: 1 }];
    const r = em.runUntilBreakpoint(5000);
    assert.match(r.hit!, /reached term 2/);
    const p = em.position;
    assert.ok(em.frames[p - 1]!.nodes.every((n) => n.term <= 1));
    assert.equal(em.runUntilBreakpoint(200).hit, undefined);
  });

  test('an invariant broken by a core bug halts the run at that step, with an alarm', () => {
    const em = new Emulator({ format: 'raftkit-sim-session/1', seed: 42, nodes: 5, driver: 'figure8', mutation: 'commit-previous-term', actions: [], steps: 0 });
    em.breakpoints = [{ kind: 'invariant' }];
    const r = em.runUntilBreakpoint(5000);
    assert.match(r.hit!, /invariant broken: leader-completeness/);
    assert.equal(em.position, 746);
    assert.ok(em.halted);
    assert.throws(
      () => em.stepForward(),
      (e: unknown) => e instanceof EmulatorError && e.code === 'halted',
    );
    em.stepBack();
    assert.ok(!em.halted);
    assert.equal(em.frame.violation, undefined);
  });

  test('drop, delay and duplicate a chosen message', () => {
    const em = new Emulator(newSession(3, 3));
    em.breakpoints = [{ kind: 'message-sent', type: 'Heartbeat' }];
    assert.ok(em.runUntilBreakpoint(5000).hit);
    const [hb] = em.inFlight().filter((m) => m.label.startsWith('Heartbeat'));
    assert.ok(hb);
    em.act({ do: 'drop', message: hb.id });
    assert.ok(!em.inFlight().some((m) => m.id === hb.id));
    assert.equal(em.messages.records.get(hb.id)!.dropReason, 'by hand');

    const [next] = em.inFlight();
    assert.ok(next);
    em.act({ do: 'delay', message: next.id, by: 50 });
    assert.equal(em.inFlight().find((m) => m.id === next.id)!.at, next.at + 50);
    em.act({ do: 'duplicate', message: next.id });
    const copies = em.inFlight().filter((m) => m.label === next.label);
    assert.equal(copies.length, 2);
    for (let i = 0; i < 200; i++) em.stepForward();
    for (const c of copies) assert.ok(em.messages.records.get(c.id)!.deliveredStep !== undefined);
    const exported = em.exportSession();
    assert.deepEqual(runSession(exported), exported.expect);
  });

  test('crash keeps what the node persisted; clock skew and lease reads are actions like any other', () => {
    const em = new Emulator(newSession(3, 3));
    em.breakpoints = [{ kind: 'commit-reaches', index: 2 }];
    em.runUntilBreakpoint(5000);
    const leader = em.leader!;
    em.act({ do: 'propose', node: leader, count: 3 });
    em.breakpoints = [{ kind: 'commit-reaches', index: 5, node: leader }];
    em.runUntilBreakpoint(5000);
    for (let i = 0; i < 50; i++) em.stepForward();
    const follower = em.frame.nodes.find((n) => n.role === 'follower' && n.lastIndex === 5)!;
    em.act({ do: 'crash', node: follower.id });
    const down = em.frame.nodes.find((n) => n.id === follower.id)!;
    assert.equal(down.up, false);
    assert.equal(down.lastIndex, 5, 'the persisted log survives the crash');
    assert.equal(down.term, follower.term);
    em.act({ do: 'restart', node: follower.id });
    assert.equal(em.frame.nodes.find((n) => n.id === follower.id)!.lastIndex, 5);
    em.act({ do: 'clock', node: leader, rate: 2 });
    assert.equal(em.frame.nodes.find((n) => n.id === leader)!.clockRate, 2);
    em.act({ do: 'read', node: leader, lease: true });
    em.act({ do: 'read', node: leader });
    for (let i = 0; i < 100; i++) em.stepForward();
    assert.ok(em.frames.flatMap((f) => f.lines).some((l) => l.includes('client lease read at')));
  });

  test('bad actions are refused with a clear error and change nothing', () => {
    const em = new Emulator(newSession(3, 3));
    for (let i = 0; i < 30; i++) em.stepForward();
    const before = JSON.stringify(em.exportSession());
    const bad: unknown[] = [
      { do: 'crash', node: 8 },
      { do: 'restart', node: 1 },
      { do: 'drop', message: 99999 },
      { do: 'partition', groups: [[1, 2]] },
      { do: 'clock', node: 1, rate: 0 },
      { do: 'fly', node: 1 },
      { do: 'propose', node: 'x' },
    ];
    for (const a of bad) {
      assert.throws(
        () => em.act(a as SessionAction),
        (e: unknown) => e instanceof EmulatorError && e.code === 'bad_action' && e.message.length > 10,
        JSON.stringify(a),
      );
    }
    assert.equal(JSON.stringify(em.exportSession()), before);
    assert.throws(
      () => em.goto(-1),
      (e: unknown) => e instanceof EmulatorError && e.code === 'bad_step',
    );
  });
});
