// The CLI end to end: a passing seed, a sweep, and a failing seed whose printed replay command
// reproduces the very same violation.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runSeed } from '../../src/sim/run.js';
import { SimViolation } from '../../src/sim/violation.js';

const cli = fileURLToPath(new URL('../../src/sim/cli.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('sim CLI', () => {
  test('--seed runs one seed verbosely; --trace prints the events', () => {
    const r = run('--seed', '5', '--steps', '400', '--trace');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /seed 5: ok/);
    assert.match(r.stdout, /deliver \w+ \d+->\d+ term=/);
  });

  test('--seeds runs a sweep and summarises it', () => {
    const r = run('--seeds', '3', '--start', '10', '--steps', '300');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /3 seeds \(10\.\.12\): 3 passed, 0 failed/);
  });

  test('a violation prints one replay command that reproduces it', () => {
    let violation: SimViolation | undefined;
    for (let seed = 1; !violation && seed < 100; seed++) {
      try {
        runSeed({ seed, steps: 3000, profile: 'figure8', mutation: 'vote-ignores-log' });
      } catch (e) {
        if (e instanceof SimViolation) violation = e;
        else throw e;
      }
    }
    assert.ok(violation, 'no failing seed found');
    const args = violation.replay.replace(/^npm run sim -- /, '').split(' ');
    const r = run(...args);
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim(), violation.message);
    const sweep = run('--seeds', '2', '--start', String(violation.seed), '--steps', '3000', '--profile', 'figure8', '--mutation', 'vote-ignores-log');
    assert.equal(sweep.status, 1);
    assert.match(sweep.stdout, /failing seeds:/);
  });

  test('bad flags are refused with a usage message', () => {
    const r = run('--seed', 'x');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--seed must be a non-negative integer/);
    assert.equal(run('--seeds', '2', '--nodes', '4').status, 2);
    assert.equal(run('--seed', '1', '--mutation', 'nope').status, 2);
  });
});
