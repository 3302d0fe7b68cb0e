// require() of the ESM-only packages (from the workspace, as a CommonJS user's code would reach
// them) fails with one message that says what to change, not with ERR_REQUIRE_ESM or a silent
// require(esm); import() of the same names still loads them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REPO } from './fresh-project.js';
import { runCommand } from './run-command.js';

const SPECIFIERS = ['@raftkit/framework', '@raftkit/framework/nest', '@raftkit/framework/server', '@raftkit/client'];

test('require() of either package or a subpath throws the ESM-only message; import() loads them', async () => {
  for (const specifier of SPECIFIERS) {
    const name = specifier.split('/').slice(0, 2).join('/');
    const required = await runCommand(process.execPath, ['-e', `require(${JSON.stringify(specifier)})`], { cwd: REPO, timeoutMs: 30_000 });
    assert.notEqual(required.code, 0, `require(${specifier}) should fail`);
    assert.match(required.stderr, new RegExp(`Error: ${name} is ESM-only: set "type": "module" in package.json and "module"/"moduleResolution": "nodenext" in tsconfig.json`));
    assert.doesNotMatch(required.stderr, /ERR_REQUIRE_ESM/);
  }
  const imported = await runCommand(process.execPath, ['--input-type=module', '-e', "await import('@raftkit/framework'); await import('@raftkit/client');"], {
    cwd: REPO,
    timeoutMs: 30_000,
  });
  assert.equal(imported.code, 0, imported.stderr);
});
