// Finds a Python 3.9+ for the Python binding's tests and makes sure it can import `websockets`
// (only the state machine side needs it): pip from the configured index into a folder of the
// package's own (packages/client-python/.deps, on PYTHONPATH), else Debian's python3-websockets
// when running as root. Nothing is installed when it is already there.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface PythonEnv {
  python: string;
  /** Extra PYTHONPATH entries (the package's src, and .deps when used). */
  path: string[];
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 300_000): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, timeout: timeoutMs });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

function pythonOk(python: string): boolean {
  return run(python, ['-c', 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)']).ok;
}

function canImport(python: string, path: string[], module: string): boolean {
  return run(python, ['-c', `import ${module}`], { ...process.env, PYTHONPATH: path.join(':') }).ok;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

function aptInstall(packages: string[]): string {
  if (!isRoot()) return 'not root: apt-get skipped';
  const update = run('apt-get', ['update', '-qq']);
  const install = run('apt-get', ['install', '-y', '-qq', ...packages], { ...process.env, DEBIAN_FRONTEND: 'noninteractive' });
  return `${update.out}\n${install.out}`;
}

export function pythonEnv(root: string): PythonEnv {
  const pkg = join(root, 'packages', 'client-python');
  const deps = join(pkg, '.deps');
  let python = ['python3', '/usr/bin/python3'].find(pythonOk);
  const notes: string[] = [];
  if (!python) {
    notes.push(aptInstall(['python3']));
    python = ['python3', '/usr/bin/python3'].find(pythonOk);
    if (!python) throw new Error(`no Python 3.9+ found, and it could not be installed: ${notes.join('\n')}`);
  }
  const path = [join(pkg, 'src'), deps];
  if (canImport(python, path, 'websockets')) return { python, path };
  const pip = run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target', deps, 'websockets']);
  notes.push(pip.out);
  if (pip.ok && canImport(python, path, 'websockets')) return { python, path };
  notes.push(aptInstall(['python3-websockets']));
  if (existsSync('/usr/bin/python3') && pythonOk('/usr/bin/python3') && canImport('/usr/bin/python3', path, 'websockets')) return { python: '/usr/bin/python3', path };
  throw new Error(`the websockets package is missing and could not be installed (pip, then apt python3-websockets):\n${notes.join('\n').slice(-2000)}`);
}
