// Test certificates, made by the project's own scripts/make-test-ca.sh (openssl). Installs
// Debian's openssl first when it is missing and the tests run as root (as CI does).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const script = new URL('../../../../../scripts/make-test-ca.sh', import.meta.url).pathname;

function ensureOpenssl(): void {
  if (spawnSync('openssl', ['version']).status === 0) return;
  if (process.getuid?.() !== 0) throw new Error('openssl is needed for the TLS tests (apt-get install openssl)');
  execFileSync('apt-get', ['install', '-y', '-q', 'openssl'], { stdio: 'ignore' });
}

export interface TestCa {
  dir: string;
  path(name: string): string;
  read(name: string): Buffer;
  /** (Re)issues member certificates for `ids` in this CA's cluster. */
  issue(...ids: number[]): void;
}

/** A fresh CA for cluster `cluster` with member certificates for `ids` and an API certificate. */
export function makeTestCa(cluster: string, ids: number[], dir = mkdtempSync(join(tmpdir(), `raftkit-ca-${cluster}-`))): TestCa {
  ensureOpenssl();
  const issue = (...more: number[]) => {
    execFileSync('sh', [script, dir, cluster, ...more.map(String)], { stdio: 'ignore' });
  };
  issue(...ids);
  return { dir, path: (name) => join(dir, name), read: (name) => readFileSync(join(dir, name)), issue };
}
