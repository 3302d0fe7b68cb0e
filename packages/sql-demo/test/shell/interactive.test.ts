// The shell as a terminal session: prompts, continuation prompts, history saved to a file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeRqliteServer } from './fake-rqlite-server.js';
import { openSession } from './run-session.js';

/** Waits until `check` holds (the shell answers asynchronously). */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Without readline's cursor movements (ESC [ ... letter). */
const plain = (s: string) => s.replace(/\p{Cc}\[[0-9;]*[A-Za-z]/gu, '');

test('interactive: banner, prompt with host:port, continuation prompt, errors without line numbers, history kept', async () => {
  const fake = await FakeRqliteServer.start();
  const dir = mkdtempSync(join(tmpdir(), 'raftkit-shell-history-'));
  const history = join(dir, 'history');
  writeFileSync(history, 'SELECT old;\n');
  try {
    const host = new URL(fake.url).host;
    const s = openSession(['--url', fake.url], { interactive: true, env: { RAFTKIT_SQL_HISTORY: history } });
    await until(() => plain(s.output()).includes(`${host}> `), 'the prompt');
    assert.match(s.output(), /^raftkit-sql shell, talking to http:\/\/127\.0\.0\.1:\d+\nEnter ".help" for usage hints\.\n/);
    s.input.write('SELECT 1 AS a,\n');
    await until(() => plain(s.output()).includes('...> '), 'the continuation prompt');
    s.input.write('2 AS b;\n');
    await until(() => s.output().includes('| a | b |'), 'the result');
    s.input.write('SELECT * FROM nosuch;\n');
    await until(() => s.errors() !== '', 'the error');
    assert.equal(s.errors(), 'Error: no such table: nosuch\n');
    s.input.write('.quit\n');
    assert.equal(await s.done, 0, 'an interactive session ends 0 even after errors');
    assert.equal(readFileSync(history, 'utf8'), 'SELECT old;\nSELECT 1 AS a,\n2 AS b;\nSELECT * FROM nosuch;\n.quit\n');
  } finally {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('interactive: end of input (Ctrl-D) ends the session with status 0', async () => {
  const fake = await FakeRqliteServer.start();
  try {
    const s = openSession(['--url', fake.url], { interactive: true, env: { RAFTKIT_SQL_HISTORY: '' } });
    s.input.end('SELECT 5 AS five;\n');
    assert.equal(await s.done, 0);
    assert.match(s.output(), /\| five \|/);
  } finally {
    await fake.close();
  }
});
