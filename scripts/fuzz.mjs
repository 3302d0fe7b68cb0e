#!/usr/bin/env node
// `npm run fuzz -- [--runs N] [--seed S]`: runs the property-based fuzz suite
// (packages/framework/test/fuzz) with N cases per property instead of npm test's bounded
// count, or replays one failure with the seed it printed.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

let values;
try {
  ({ values } = parseArgs({ options: { runs: { type: 'string' }, seed: { type: 'string' } }, strict: true }));
} catch (e) {
  console.error(`fuzz: ${e.message}\nusage: npm run fuzz -- [--runs N] [--seed S]`);
  process.exit(2);
}
const env = { ...process.env };
if (values.runs !== undefined) {
  if (!/^[1-9][0-9]{0,8}$/.test(values.runs)) {
    console.error(`fuzz: --runs must be a positive integer, got "${values.runs}"`);
    process.exit(2);
  }
  env.RAFTKIT_FUZZ_RUNS = values.runs;
}
if (values.seed !== undefined) {
  if (!/^-?[0-9]{1,10}$/.test(values.seed)) {
    console.error(`fuzz: --seed must be an integer, got "${values.seed}"`);
    process.exit(2);
  }
  env.RAFTKIT_FUZZ_SEED = values.seed;
}
const root = new URL('..', import.meta.url).pathname;
const r = spawnSync(process.execPath, [`${root}scripts/run-tests.mjs`, 'framework/dist/test/fuzz/'], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
