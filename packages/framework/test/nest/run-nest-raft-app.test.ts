// runNestRaftApp as a program's main(): one-line errors for bad flags, the app's own flags,
// two ports (the node's and the app's), one JSON log stream, a graceful SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../support/ports.js';

const APP = fileURLToPath(new URL('./fixtures/nest-app.js', import.meta.url));

interface Run {
  exited: Promise<{ code: number | null; stderr: string }>;
  kill(signal: NodeJS.Signals): void;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [APP, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return { exited: new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr }))), kill: (signal) => child.kill(signal) };
}

test('a bad command line is one line on stderr and exit code 2', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftkit-nest-run-'));
  try {
    const cases: [string[], RegExp][] = [
      [['--bogus'], /^nest-app: Unknown option '--bogus'/],
      [['--id', '1', '--listen', '127.0.0.1:1', '--data-dir', dir, '--peers', '1=127.0.0.1:1', '--http', 'nowhere'], /^nest-app: --http must be HOST:PORT, got "nowhere"$/],
      [['--id', 'x', '--listen', '127.0.0.1:1', '--data-dir', dir], /^nest-app: --id must be a positive integer, got "x"$/],
    ];
    for (const [args, pattern] of cases) {
      const { code, stderr } = await run(args).exited;
      assert.equal(code, 2, stderr);
      const lines = stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, stderr);
      assert.match(lines[0]!, pattern);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the node and the app serve their own ports; app flags reach the app; logs are JSON; SIGTERM stops it', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftkit-nest-run-'));
  const [raftPort, httpPort] = await freePorts(2);
  const app = run([
    '--id',
    '1',
    '--listen',
    `127.0.0.1:${raftPort}`,
    '--peers',
    `1=127.0.0.1:${raftPort}`,
    '--data-dir',
    dir,
    '--http',
    `127.0.0.1:${httpPort}`,
    '--greeting',
    'ahoy',
  ]);
  try {
    const http = `http://127.0.0.1:${httpPort}`;
    let greeted: Response | undefined;
    for (let i = 0; i < 200 && !greeted?.ok; i++) {
      greeted = await fetch(`${http}/greet`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"nest"}' }).catch(() => undefined);
      if (!greeted?.ok) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(greeted?.status, 201);
    assert.equal(await greeted!.text(), 'hello, nest');
    assert.deepEqual(await (await fetch(`${http}/greeting`)).json(), { greeting: 'ahoy' });
    // The node's own port serves raftkit's API: the command the app proposed is there.
    const q = await fetch(`http://127.0.0.1:${raftPort}/v1/groups/hi/queries/all?consistency=local`, { method: 'POST', body: '{}' });
    assert.deepEqual(((await q.json()) as { result: unknown }).result, ['nest']);
  } finally {
    app.kill('SIGTERM');
  }
  const { code, stderr } = await app.exited;
  rmSync(dir, { recursive: true, force: true });
  assert.equal(code, 0, stderr);
  const lines = stderr.trimEnd().split('\n');
  for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not a JSON log line: ${line}`);
  const records = lines.map((l) => JSON.parse(l) as { msg: string; context?: string; node?: number });
  assert.ok(
    records.some((r) => r.context === 'RoutesResolver' || r.context === 'RouterExplorer'),
    'Nest logs through the same logger',
  );
  assert.ok(records.some((r) => /stopping on SIGTERM/.test(r.msg)));
  assert.ok(
    records.some((r) => r.msg.includes(`watch on 127.0.0.1:${raftPort}; the application's own routes on 127.0.0.1:${httpPort}`)),
    'it says which port is which',
  );
});
