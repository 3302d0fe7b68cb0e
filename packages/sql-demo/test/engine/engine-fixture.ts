// SqlEngines in temporary folders, and plans of statements, for the engine's tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqlEngine, type SqlEngineOptions } from '../../src/engine/sql-engine.js';
import { planStatements, type PlannedStatement } from '../../src/machine/statement-plan.js';

export interface OpenEngine {
  engine: SqlEngine;
  dir: string;
  /** Closes the engine and removes its folder. */
  dispose(): void;
}

const dirs: string[] = [];

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'raftkit-sql-engine-'));
  dirs.push(dir);
  return dir;
}

export function openEngine(o: SqlEngineOptions = {}, dir = tempDir()): OpenEngine {
  const engine = new SqlEngine(o);
  engine.open(dir);
  return {
    engine,
    dir,
    dispose() {
      engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Statements as a log entry at `timestampMs` would run them. */
export function plan(statements: unknown[], timestampMs = Date.UTC(2024, 0, 2, 3, 4, 5)): PlannedStatement[] {
  return planStatements(statements, { timestampMs });
}

let nextIndex = 1;

/** An entry stamp with a fresh index. */
export function stamp(index = nextIndex++, timestampMs = Date.UTC(2024, 0, 2, 3, 4, 5)): { index: number; term: number; timestampMs: number } {
  return { index, term: 1, timestampMs };
}

export const WRITE = { transaction: false, mode: 'execute', timings: false } as const;
export const TX = { transaction: true, mode: 'execute', timings: false } as const;
