// The Python binding (packages/client-python): its unittest suites, which start live clusters of
// raftkit-kv nodes themselves (a 3-node KV cluster, a 1-node one with a token, and a 3-node
// cluster with a Python state machine per node), and a pip install of the package from a copy.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pythonEnv, type PythonEnv } from './python-env.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const PKG = join(ROOT, 'packages', 'client-python');

let env: PythonEnv | undefined;
const getEnv = () => (env ??= pythonEnv(ROOT));

/** Runs a command to its end (at most `timeoutMs`), killing it by PID on timeout; output kept. */
function runPython(args: string[], extraPath: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  const { python } = getEnv();
  return new Promise((resolve) => {
    const child = spawn(python, args, { cwd: PKG, env: { ...process.env, PYTHONPATH: extraPath.join(':'), PYTHONUNBUFFERED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (d: Buffer) => {
      out = (out + d.toString()).slice(-200_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

test('the Python client and Python state machines pass their unittest suites against live clusters', { timeout: 420_000 }, async () => {
  const { path } = getEnv();
  const r = await runPython(['-m', 'unittest', 'discover', '-s', 'tests', '-t', 'tests', '-v'], [...path, join(PKG, 'tests')], 400_000);
  assert.equal(r.code, 0, r.out.slice(-8000));
  assert.match(r.out, /Ran \d+ tests/);
});

test('pip installs the raftkit package from a copy of packages/client-python and it imports without the repository', { timeout: 180_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'raftkit-pip-'));
  try {
    cpSync(PKG, join(work, 'src-copy'), { recursive: true, filter: (p) => !/(\/\.deps|\/build|egg-info|__pycache__|\/tests)/.test(p.slice(PKG.length)) });
    const target = join(work, 'site');
    const pip = await runPython(['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--target', target, join(work, 'src-copy')], [], 170_000);
    assert.equal(pip.code, 0, pip.out.slice(-4000));
    assert.ok(existsSync(join(target, 'raftkit', 'py.typed')), 'py.typed is installed');
    const check = await runPython(
      [
        '-c',
        'import raftkit, sys; assert raftkit.__file__.startswith(sys.argv[1]), raftkit.__file__; c = raftkit.Client("127.0.0.1:1"); c.close(); print(raftkit.__version__)',
        target,
      ],
      [target],
      30_000,
    );
    assert.equal(check.code, 0, check.out);
    assert.match(check.out, /0\.1\.0/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
