// Golden traces of the Raft core, in the style of etcd raft's datadriven tests: each
// testdata/*.txt file is a scenario of commands (see env.ts) with the text each one printed.
// A mismatch fails with a diff of that command's output. To (re)generate the expected outputs,
// run `REWRITE=1 node scripts/run-tests.mjs golden` and review the change to the .txt files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatMismatch, parseDataFile, rewriteDataFile } from './datadriven.js';
import { Env } from './env.js';

// This file runs from dist/test/golden/; the scenarios stay in the source tree.
const dir = fileURLToPath(new URL('../../../test/golden/testdata/', import.meta.url));
const rewrite = process.env.REWRITE === '1';
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .sort();

test('golden: there are scenarios to run', () => {
  assert.ok(files.length > 0, `no testdata/*.txt files in ${dir}`);
});

for (const name of files) {
  test(`golden: ${name}`, () => {
    const path = join(dir, name);
    const f = parseDataFile(`packages/framework/test/golden/testdata/${name}`, readFileSync(path, 'utf8'));
    const env = new Env();
    const actual: string[] = [];
    for (const d of f.directives) {
      let out: string;
      try {
        out = env.run(d.cmd);
      } catch (e) {
        throw new Error(`${f.name}:${d.line}: ${d.cmd}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      }
      actual.push(out);
      if (!rewrite && out !== d.expected) assert.fail(formatMismatch(f, d, out));
    }
    if (rewrite) writeFileSync(path, rewriteDataFile(f, actual));
  });
}
