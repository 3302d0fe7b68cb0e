// An exported session replays in `npm run sim -- --session FILE` (the simulator's CLI, a
// separate process): same trace hash, same checksums. A tampered or malformed file is caught.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Emulator, scenario } from '../src/engine/index.js';

const require = createRequire(import.meta.url);
const cli = join(dirname(require.resolve('@raftkit/framework/package.json')), 'dist', 'src', 'sim', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'raftkit-emulator-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const replay = (file: string) => spawnSync(process.execPath, [cli, '--session', file], { encoding: 'utf8' });

describe('exported sessions in the sim CLI', () => {
  test('an exported session replays with the same trace hash and checksums', () => {
    const em = new Emulator(scenario('snapshot-install').build());
    const s = em.exportSession();
    const file = join(dir, 'session.json');
    writeFileSync(file, JSON.stringify(s));
    const r = replay(file);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`trace ${s.expect!.traceHash} \\(${s.expect!.traceLines} lines\\)`));
    assert.match(r.stdout, /matches the recorded trace hash and checksums/);
    for (const c of s.expect!.checksums) assert.ok(r.stdout.includes(`n${c.id}: applied ${c.applied} term ${c.termChecksum} data ${c.dataChecksum}`));
  });

  test('a session that ends in a broken invariant replays to the same violation (exit 1)', () => {
    const em = new Emulator(scenario('figure8-bug').build());
    const file = join(dir, 'bug.json');
    writeFileSync(file, JSON.stringify(em.exportSession()));
    const r = replay(file);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /VIOLATION leader-completeness at step 746/);
    assert.match(r.stdout, /matches the recorded/);
  });

  test('a tampered outcome is reported (exit 3); a malformed file is refused (exit 2)', () => {
    const s = new Emulator(scenario('leader-transfer').build()).exportSession();
    s.expect!.checksums[0]!.dataChecksum = '00000000';
    const file = join(dir, 'tampered.json');
    writeFileSync(file, JSON.stringify(s));
    const r = replay(file);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /n1: expected applied \d+ term \w+ data 00000000/);

    writeFileSync(file, JSON.stringify({ ...s, actions: [{ step: 1, action: { do: 'crash', node: 42 } }] }));
    const bad = replay(file);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /actions\[0\]\.action\.node must be an integer in \[1, 9\]/);
  });
});
