// How long the property-based fuzz suite runs: a bounded number of cases in `npm test`, more
// with `npm run fuzz -- --runs N` (which sets RAFTKIT_FUZZ_RUNS), and one exact failure again
// with `npm run fuzz -- --seed S` (RAFTKIT_FUZZ_SEED). fast-check prints the seed and the path
// of every counterexample it finds.
import fc from 'fast-check';

export function fuzzParameters<T>(defaultRuns: number): fc.Parameters<T> {
  const runs = Number(process.env['RAFTKIT_FUZZ_RUNS'] ?? '');
  const seed = Number(process.env['RAFTKIT_FUZZ_SEED'] ?? '');
  return {
    numRuns: Number.isSafeInteger(runs) && runs > 0 ? runs : defaultRuns,
    ...(Number.isSafeInteger(seed) && process.env['RAFTKIT_FUZZ_SEED'] ? { seed } : {}),
  };
}

/** Runs a property and, when it fails, puts the replay command in front of fast-check's report. */
export async function fuzz<T>(name: string, property: fc.IAsyncProperty<T> | fc.IProperty<T>, defaultRuns: number): Promise<void> {
  const params = fuzzParameters<T>(defaultRuns);
  const details = await fc.check(property as fc.IAsyncProperty<T>, params);
  if (!details.failed) return;
  const report = fc.defaultReportMessage(details) ?? 'failed';
  throw new Error(`fuzz "${name}" failed; replay: npm run fuzz -- --seed ${details.seed} --runs ${params.numRuns}\n${report}`);
}
