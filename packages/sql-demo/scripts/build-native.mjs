#!/usr/bin/env node
// Compiles native/interrupt_timer.c, the SQLite extension that lets the SQL store stop a
// statement at its db_timeout, against the SQLite headers better-sqlite3 ships. Runs as part of
// the build. Without a C compiler the store still works; db_timeout then only bounds how long a
// request waits (the server logs a warning), so a missing compiler is reported, not fatal.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const source = join(pkg, 'native', 'interrupt_timer.c');
const out = join(pkg, 'build', process.platform === 'darwin' ? 'interrupt_timer.dylib' : 'interrupt_timer.so');

if (existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs) process.exit(0);
const headers = join(dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json')), 'deps', 'sqlite3');
mkdirSync(dirname(out), { recursive: true });
const cc = process.env.CC || 'cc';
const args = ['-O2', '-shared', '-fPIC', '-I', headers, '-o', out, source, '-lpthread'];
if (process.platform === 'darwin') args.splice(2, 0, '-undefined', 'dynamic_lookup');
const r = spawnSync(cc, args, { stdio: 'inherit' });
if (r.error || r.status !== 0) {
  console.warn(`sql-demo: could not compile ${source} with ${cc} (${r.error?.message ?? `exit ${r.status}`}); db_timeout will only bound waiting`);
}
