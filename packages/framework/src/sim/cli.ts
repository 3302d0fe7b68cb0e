// The simulator's command line:
//   npm run sim -- --seed 42 [--trace]          one seed, verbosely (--trace: every event)
//   npm run sim -- --seeds 2000 [--start 1]     a sweep; exits non-zero on any failure
//   npm run sim -- --session FILE [--trace]     replays an emulator session (seed + actions) and
//                                               compares the trace hash and checksums it records
// Common flags: --steps N, --nodes 3|5, --profile default|figure8|calm|late-proposals,
//               --mutation commit-previous-term|vote-ignores-log (test-only core bugs).

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runSeed, sweep } from './run.js';
import { runSession } from './session-run.js';
import { compareOutcomes, parseSession, SessionError, type Session } from './session.js';
import { MUTATIONS, PROFILES, type Mutation, type ProfileName } from './scenario.js';
import { SimViolation } from './violation.js';

const USAGE = `usage: npm run sim -- (--seed S [--trace] | --seeds N [--start K]) [--steps N] [--nodes 3|5]
                      [--profile ${PROFILES.join('|')}] [--mutation ${MUTATIONS.join('|')}]
       npm run sim -- --session FILE [--trace]`;

function fail(msg: string): never {
  console.error(`sim: ${msg}\n${USAGE}`);
  process.exit(2);
}

function int(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) fail(`--${name} must be a non-negative integer, got '${v}'`);
  const n = Number(v);
  if (n < min || n > 0xffffffff) fail(`--${name} must be between ${min} and ${0xffffffff}`);
  return n;
}

function main(): void {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        seed: { type: 'string' },
        seeds: { type: 'string' },
        start: { type: 'string' },
        steps: { type: 'string' },
        nodes: { type: 'string' },
        profile: { type: 'string' },
        mutation: { type: 'string' },
        trace: { type: 'boolean' },
        session: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.session !== undefined) {
    const others = ['seed', 'seeds', 'start', 'steps', 'nodes', 'profile', 'mutation'].filter((k) => values[k as keyof typeof values] !== undefined);
    if (others.length > 0) fail(`--session takes no --${others.join(', --')}: the session file holds the whole run`);
    replaySession(values.session, values.trace === true);
    return;
  }
  const seed = int('seed', values.seed, 0);
  const seeds = int('seeds', values.seeds, 1);
  const start = int('start', values.start, 0) ?? 1;
  const steps = int('steps', values.steps, 1) ?? 3000;
  const nodes = int('nodes', values.nodes, 1);
  if ((seed === undefined) === (seeds === undefined)) fail('give exactly one of --seed and --seeds');
  if (nodes !== undefined && nodes !== 3 && nodes !== 5) fail('--nodes must be 3 or 5');
  const profile = (values.profile ?? 'default') as ProfileName;
  if (!PROFILES.includes(profile)) fail(`unknown --profile '${values.profile}'`);
  const mutation = values.mutation as Mutation | undefined;
  if (mutation !== undefined && !MUTATIONS.includes(mutation)) fail(`unknown --mutation '${values.mutation}'`);
  if (values.trace && seed === undefined) fail('--trace needs --seed');
  if (profile === 'figure8' && nodes !== undefined && nodes !== 5) fail('the figure8 profile needs --nodes 5');

  if (seed !== undefined) {
    const t0 = performance.now();
    try {
      const r = runSeed({ seed, steps, nodes, profile, mutation, trace: values.trace ? (line) => console.log(line) : undefined });
      const sc = r.scenario;
      console.log(`seed ${seed}: ok in ${(performance.now() - t0).toFixed(0)} ms`);
      console.log(
        `  cluster: ${sc.voters} voters${sc.witness ? ' (one witness)' : ''}${sc.learners ? `, ${sc.learners} learner` : ''}; ` +
          `electionTick ${sc.electionTick}, heartbeatTick ${sc.heartbeatTick}, preVote ${sc.preVote}, checkQuorum ${sc.checkQuorum}, reads ${sc.readMode}` +
          (sc.mutation ? `, mutation ${sc.mutation}` : ''),
      );
      console.log(`  network: delay ${sc.minDelay}-${sc.maxDelay}, loss ${sc.lossRate}, dup ${sc.dupRate}; profile ${sc.profile}`);
      console.log(`  ${r.steps} steps, ${r.ticks} ticks; after the final heal: committed in ${r.commitTicks} ticks, converged in ${r.convergeTicks}`);
      console.log(
        `  ${Object.entries(r.stats)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
    } catch (e) {
      if (!(e instanceof SimViolation)) throw e;
      console.error(e.message);
      process.exit(1);
    }
    return;
  }

  const t0 = performance.now();
  const summary = sweep({
    start,
    count: seeds!,
    steps,
    nodes,
    profile,
    mutation,
    onSeed: (s, outcome) => {
      if (outcome instanceof SimViolation) console.log(`FAIL seed ${s}: ${outcome.message}`);
    },
  });
  const secs = (performance.now() - t0) / 1000;
  const passed = summary.runs - summary.failures.length;
  console.log(`\n${summary.runs} seeds (${start}..${start + summary.runs - 1}): ${passed} passed, ${summary.failures.length} failed in ${secs.toFixed(1)} s`);
  console.log(`${summary.totalSteps} steps in passing runs (${Math.round(summary.totalSteps / secs)} steps/s)`);
  console.log(
    `runs covering: ${Object.entries(summary.coverage)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  if (summary.failures.length > 0) {
    console.log('\nfailing seeds:');
    for (const f of summary.failures) console.log(`  ${f.violation.invariant}: ${f.violation.replay}`);
    process.exit(1);
  }
}

function replaySession(file: string, trace: boolean): void {
  let session: Session;
  try {
    session = parseSession(JSON.parse(readFileSync(file, 'utf8')));
  } catch (e) {
    if (e instanceof SessionError || e instanceof SyntaxError) fail(`${file}: ${e.message}`);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') fail(`${file}: no such file`);
    throw e;
  }
  const t0 = performance.now();
  const out = runSession(session, { trace: trace ? (line) => console.log(line) : undefined });
  console.log(
    `session ${file}: seed ${session.seed}, ${session.nodes} nodes, driver ${session.driver}, ${session.actions.length} actions, ${session.steps} steps in ${(performance.now() - t0).toFixed(0)} ms`,
  );
  console.log(`  trace ${out.traceHash} (${out.traceLines} lines)${out.violation ? `; VIOLATION ${out.violation}` : ''}`);
  for (const c of out.checksums) console.log(`  n${c.id}: applied ${c.applied} term ${c.termChecksum} data ${c.dataChecksum}`);
  if (!session.expect) {
    console.log('  (the file records no expected outcome to compare)');
    process.exit(out.violation ? 1 : 0);
  }
  const diffs = compareOutcomes(session.expect, out);
  if (diffs.length > 0) {
    console.error(`sim: the replay differs from the recorded session:\n  ${diffs.join('\n  ')}`);
    process.exit(3);
  }
  console.log('  matches the recorded trace hash and checksums');
  // A recorded violation that replays exactly is still a violation.
  process.exit(out.violation ? 1 : 0);
}

main();
