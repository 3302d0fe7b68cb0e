// The membership-change codec: round trips, and bad input is a 'conf_change_invalid' error
// (never a crash, never a silently different change). A corrupt change in the log is skipped
// the same way on every node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeConfChange, encodeConfChange } from '../../src/core/confchange/codec.js';
import { ConfChangeTransition, ConfChangeType, type ConfChange } from '../../src/core/confchange/types.js';
import { RaftError } from '../../src/core/errors.js';
import { MemoryStorage } from '../../src/core/memory-storage.js';
import { RawNode } from '../../src/core/raw-node.js';
import { emptyConfState } from '../../src/core/conf-state.js';
import { EntryType, type Entry } from '../../src/core/types.js';

const enc = (s: string) => new TextEncoder().encode(s);
const invalid = (e: unknown) => e instanceof RaftError && e.code === 'conf_change_invalid';

test('encode/decode round-trips every transition and change type, with and without context', () => {
  const ccs: ConfChange[] = [
    { transition: ConfChangeTransition.Auto, changes: [] },
    { transition: ConfChangeTransition.Auto, changes: [{ type: ConfChangeType.AddVoter, nodeId: 4 }], context: 'host:4' },
    {
      transition: ConfChangeTransition.JointExplicit,
      changes: [
        { type: ConfChangeType.AddLearner, nodeId: 5 },
        { type: ConfChangeType.AddWitness, nodeId: 6 },
        { type: ConfChangeType.RemoveNode, nodeId: 1 },
      ],
    },
    { transition: ConfChangeTransition.JointImplicit, changes: [{ type: ConfChangeType.RemoveNode, nodeId: 2 }], context: '' },
  ];
  for (const cc of ccs) assert.deepEqual(decodeConfChange(encodeConfChange(cc)), cc);
});

test('malformed bytes and shapes are refused with conf_change_invalid', () => {
  const bad = [
    '',
    'not json',
    '{"transition":"auto","changes":[',
    'null',
    '42',
    '"auto"',
    '[]',
    '{}',
    '{"changes":[]}',
    '{"transition":"auto"}',
    '{"transition":"auto","changes":{}}',
    '{"transition":"sideways","changes":[]}',
    '{"transition":null,"changes":[]}',
    '{"transition":"auto","changes":[null]}',
    '{"transition":"auto","changes":[42]}',
    '{"transition":"auto","changes":[{"type":"add-voter"}]}',
    '{"transition":"auto","changes":[{"type":"promote","nodeId":1}]}',
    '{"transition":"auto","changes":[{"type":"add-voter","nodeId":0}]}',
    '{"transition":"auto","changes":[{"type":"add-voter","nodeId":-3}]}',
    '{"transition":"auto","changes":[{"type":"add-voter","nodeId":1.5}]}',
    '{"transition":"auto","changes":[{"type":"add-voter","nodeId":"2"}]}',
    '{"transition":"auto","changes":[{"type":"add-voter","nodeId":1e400}]}',
    '{"transition":"auto","changes":[],"context":7}',
    '{"transition":"auto","changes":[],"context":null}',
  ];
  for (const s of bad) assert.throws(() => decodeConfChange(enc(s)), invalid, s);
  // Invalid UTF-8 decodes to replacement characters, then fails as JSON.
  assert.throws(() => decodeConfChange(new Uint8Array([0xff, 0xfe, 0x7b])), invalid);
});

test('a transition or change type must be the exact string, not something that stringifies to it', () => {
  // ["auto"] and ["add-voter"] become "auto" / "add-voter" under String(): the validator must
  // not let them through, or a malformed change is applied as a different one.
  const sneaky = [
    '{"transition":["auto"],"changes":[]}',
    '{"transition":["joint-explicit"],"changes":[{"type":"add-voter","nodeId":4}]}',
    '{"transition":"auto","changes":[{"type":["add-voter"],"nodeId":4}]}',
  ];
  for (const s of sneaky) assert.throws(() => decodeConfChange(enc(s)), invalid, s);
});

test('a corrupt membership entry in the log is skipped on apply, without a crash', () => {
  const s = MemoryStorage.bootstrap({ ...emptyConfState(), voters: [1] });
  const base = s.lastIndex();
  const entries: Entry[] = [
    { term: 1, index: base + 1, type: EntryType.ConfChange, data: enc('garbage') },
    // Decodes, but removing the only voter is not allowed: skipped as well.
    {
      term: 1,
      index: base + 2,
      type: EntryType.ConfChange,
      data: encodeConfChange({ transition: ConfChangeTransition.Auto, changes: [{ type: ConfChangeType.RemoveNode, nodeId: 1 }] }),
    },
    {
      term: 1,
      index: base + 3,
      type: EntryType.ConfChange,
      data: encodeConfChange({ transition: ConfChangeTransition.Auto, changes: [{ type: ConfChangeType.AddLearner, nodeId: 2 }] }),
    },
  ];
  s.append(entries);
  s.setHardState({ term: 1, vote: 0, commit: base + 3 });
  const n = new RawNode({ id: 1, electionTick: 10, heartbeatTick: 1, storage: s, applied: base, random: () => 0 });
  const rd = n.ready();
  assert.deepEqual(
    rd.committedEntries.map((e) => e.index),
    [base + 1, base + 2, base + 3],
  );
  n.advance(rd);
  const cs = n.confState();
  assert.deepEqual(cs.voters, [1]);
  assert.deepEqual(cs.learners, [2], 'the valid change after the bad ones still applies');
  n.campaign();
  assert.equal(n.role, 'leader');
});
