// The remote state machine's wire checks: the hello, the argument check against declared
// fields, the machine's handshake verdicts and resume decisions (without a socket: a fake link),
// and the --remote-machine flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftkitError } from '../../src/common/errors.js';
import { FlagError, parseServerFlags } from '../../src/server/flags.js';
import { checkRemoteArgs } from '../../src/remote/remote-args.js';
import { parseHello, type HelloMessage } from '../../src/remote/remote-protocol.js';
import { RemoteMachine } from '../../src/remote/remote-machine.js';
import type { MachineLink } from '../../src/remote/machine-link.js';
import { CommandErrorResult } from '../../src/rsm/command-result.js';

const add = { name: 'add', args: { sku: { type: 'string' }, qty: { type: 'integer', optional: false }, note: { type: 'string', optional: true, nullable: true } } };
const hello = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'hello', protocol: 1, name: 'inventory', version: 1, lastIndex: 0, commands: [add], queries: [{ name: 'summary' }], ...over });

test('parseHello takes a declaration and refuses malformed ones, naming the problem', () => {
  const h = parseHello(hello());
  assert.deepEqual(
    h.commands.map((c) => [c.name, c.kind, Object.keys(c.args)]),
    [['add', 'command', ['sku', 'qty', 'note']]],
  );
  assert.deepEqual(h.commands[0]!.args.note, { type: 'string', optional: true, nullable: true });
  const bad: [string, RegExp][] = [
    ['not json', /not JSON/],
    [hello({ type: 'hi' }), /first message/],
    [hello({ protocol: 2 }), /protocol 2/],
    [hello({ version: 0 }), /version/],
    [hello({ lastIndex: -1 }), /lastIndex/],
    [hello({ commands: [add, add] }), /declared twice/],
    [hello({ commands: [{ name: '1x' }] }), /needs a name/],
    [hello({ commands: [{ name: 'a', args: { f: { type: 'datetime' } } }] }), /no known type/],
    [hello({ queries: [{ name: 'add' }] }), /both as a command and as a query/],
  ];
  for (const [text, re] of bad) {
    assert.throws(
      () => parseHello(text),
      (e: unknown) => e instanceof RaftkitError && e.code === 'bad_request' && re.test(e.message),
      text,
    );
  }
});

test('checkRemoteArgs names the first bad field: unknown, missing, null, mistyped', () => {
  const op = parseHello(hello()).commands[0]!;
  checkRemoteArgs(op, { sku: 'a', qty: 2 });
  checkRemoteArgs(op, { sku: 'a', qty: 2, note: null });
  const cases: [unknown, string][] = [
    [{ sku: 'a', qty: 2, zzz: 1 }, 'zzz'],
    [{ sku: 'a' }, 'qty'],
    [{ sku: null, qty: 1 }, 'sku'],
    [{ sku: 'a', qty: 1.5 }, 'qty'],
    [{ sku: 3, qty: 1 }, 'sku'],
    [[1, 2], 'body'],
  ];
  for (const [args, field] of cases) {
    assert.throws(
      () => checkRemoteArgs(op, args),
      (e: unknown) => e instanceof RaftkitError && e.code === 'bad_request' && e.details.field === field,
      JSON.stringify(args),
    );
  }
});

/** A link that records what the node sends and answers every request at once. */
function fakeLink(): { link: MachineLink; sent: Record<string, unknown>[] } {
  const sent: Record<string, unknown>[] = [];
  const link = {
    up: true,
    post: (m: Record<string, unknown>) => sent.push(m),
    request: (m: Record<string, unknown>) => {
      sent.push(m);
      return Promise.resolve({ type: 'result' as const, id: 1, index: m.index as number, result: { ok: m.index } });
    },
  } as unknown as MachineLink;
  return { link, sent };
}

const ctx = (index: number) => ({ index, term: 1, timestamp: 1000 + index });

test('a remote machine: refusals, queued entries while away, resume after the last index, or restore and replay', async () => {
  const m = new RemoteMachine({ group: 'inv', type: 'inventory', version: 1, nodeId: 1 });
  const h: HelloMessage = parseHello(hello());
  assert.throws(() => m.checkCommand('add', { sku: 'a', qty: 1 }), /not connected.*not proposed/);
  assert.match(m.refusal({ ...h, name: 'counter' })!.message, /not "counter"/);
  assert.match(m.refusal({ ...h, version: 2 })!.message, /version 1/);
  const first = fakeLink();
  m.attach(first.link, h);
  assert.equal(m.refusal(h)?.code, 'conflict');
  assert.deepEqual(
    m.schema('inv').commands.map((c) => c.name),
    ['add'],
  );
  assert.throws(
    () => m.checkCommand('nope', {}),
    (e: unknown) => e instanceof RaftkitError && e.code === 'unknown_command',
  );
  assert.deepEqual(await m.executeCommand('add', { sku: 'a', qty: 1 }, ctx(3)), { ok: 3 });
  m.detach(first.link, { kind: 'closed', message: 'gone' });
  assert.equal(m.status().state, 'waiting');
  // away: the entry queues and answers result_unavailable at once
  const queued = m.executeCommand('add', { sku: 'b', qty: 1 }, ctx(5));
  assert.ok(queued instanceof CommandErrorResult && queued.error.code === 'result_unavailable');
  assert.equal(m.status().queued, 1);
  // the same process comes back having applied 3: only 5 is replayed
  const again = fakeLink();
  m.attach(again.link, { ...h, lastIndex: 3 });
  assert.deepEqual(
    again.sent.map((s) => [s.type, s.index]),
    [['apply', 5]],
  );
  // a fresh process (lastIndex 0, the checkpoint at 0): the initial state, then every entry
  m.detach(again.link, { kind: 'timeout', message: 'slow' });
  assert.equal(m.status().state, 'failed');
  assert.equal(m.status().failures, 1);
  const fresh = fakeLink();
  m.attach(fresh.link, { ...h, lastIndex: 0 });
  assert.deepEqual(
    fresh.sent.map((s) => [s.type, s.index]),
    [
      ['apply', 3],
      ['apply', 5],
    ],
  );
  // a process ahead of this node (it restarted from an older state): restore, then replay
  const ahead = fakeLink();
  m.detach(fresh.link, { kind: 'closed', message: '' });
  m.attach(ahead.link, { ...h, lastIndex: 9 });
  assert.deepEqual(
    ahead.sent.map((s) => [s.type, s.index]),
    [
      ['restore', 0],
      ['apply', 3],
      ['apply', 5],
    ],
  );
  // the state rides in snapshots: another node's machine restores it and catches a machine up
  const other = new RemoteMachine({ group: 'inv', type: 'inventory', version: 1, nodeId: 2 });
  other.restoreState(JSON.parse(JSON.stringify(m.captureState())));
  assert.deepEqual(
    other.schema('inv').commands.map((c) => c.name),
    ['add'],
  );
  const joined = fakeLink();
  other.attach(joined.link, { ...h, lastIndex: 0 });
  assert.deepEqual(
    joined.sent.map((s) => [s.type, s.index]),
    [
      ['apply', 3],
      ['apply', 5],
    ],
  );
  // changed operations under the same version are refused once known
  assert.match(other.refusal({ ...h, commands: [] })?.message ?? '', /other commands or queries/);
});

test('--remote-machine NAME[@VERSION] and --machine-timeout-ms', () => {
  const base = ['--id', '1', '--listen', '127.0.0.1:7001', '--peers', '1=127.0.0.1:7001', '--data-dir', '/tmp/unused'];
  const f = parseServerFlags([...base, '--remote-machine', 'inventory@2', '--remote-machine', 'counter', '--machine-timeout-ms', '1500'], {}).flags;
  assert.deepEqual(f.remoteMachines, [
    { name: 'inventory', version: 2 },
    { name: 'counter', version: 1 },
  ]);
  assert.equal(f.machineTimeoutMs, 1500);
  for (const bad of [
    ['--remote-machine', 'a@0'],
    ['--remote-machine', '-x'],
    ['--remote-machine', 'a', '--remote-machine', 'a@2'],
    ['--machine-timeout-ms', '5'],
  ]) {
    assert.throws(() => parseServerFlags([...base, ...bad], {}), FlagError, bad.join(' '));
  }
});
