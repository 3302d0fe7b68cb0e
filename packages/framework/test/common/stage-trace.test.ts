// Stage tracing (bench:stages): off unless RAFTKIT_TRACE_STAGES names a folder; then each process
// writes its marks, with the log indexes they concern, to <folder>/<pid>.trace by the time it exits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageType, type Message } from '../../src/core/types.js';
import { lastWrittenIndex, messageSpan } from '../../src/host/stage-spans.js';

const MODULE = new URL('../../src/common/stage-trace.js', import.meta.url).href;

function run(env: Record<string, string>): void {
  const script = `import(${JSON.stringify(MODULE)}).then((m) => { m.traceStage('propose', 7); m.traceStage('round'); })`;
  execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env } });
}

test('marks reach <dir>/<pid>.trace when tracing is on, and nothing is written when it is off', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stage-trace-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  run({ RAFTKIT_TRACE_STAGES: join(dir, 'on') });
  const files = readdirSync(join(dir, 'on'));
  assert.equal(files.length, 1);
  const lines = readFileSync(join(dir, 'on', files[0]!), 'utf8')
    .trim()
    .split('\n');
  assert.deepEqual(
    lines.map((l) => l.split(' ').slice(1).join(' ')),
    ['propose 7', 'round'],
  );
  assert.ok(
    lines.every((l) => Math.abs(Number(l.split(' ')[0]) - Date.now()) < 60_000),
    'epoch milliseconds',
  );
  run({ RAFTKIT_TRACE_STAGES: '' });
  assert.equal(existsSync(join(dir, 'off')), false);
});

test('an Append is traced by the entries it carries, a response by the index it matched', () => {
  const base = { from: 1, to: 2, term: 1, logTerm: 1, commit: 0, reject: false, rejectHint: 0, entries: [] } as unknown as Message;
  const entry = (index: number) => ({ index, term: 1, type: 0, data: new Uint8Array() });
  assert.equal(messageSpan({ ...base, type: MessageType.Append, index: 4, entries: [entry(5), entry(6)] } as Message), '5-6');
  assert.equal(messageSpan({ ...base, type: MessageType.Append, index: 4 }), '-');
  assert.equal(messageSpan({ ...base, type: MessageType.AppendResponse, index: 9 }), '9');
  assert.equal(messageSpan({ ...base, type: MessageType.AppendResponse, index: 9, reject: true }), 'reject');
  assert.equal(messageSpan({ ...base, type: MessageType.Heartbeat, index: 0 }), undefined);
  assert.equal(
    lastWrittenIndex([
      { group: 'a', entries: [entry(3), entry(4)] as never },
      { group: 'b', entries: [] },
    ]),
    4,
  );
});
