// Stops a SQLite statement that runs past a deadline. better-sqlite3 has no sqlite3_interrupt()
// and is built without the progress callback, so the SQL store loads a tiny extension of its own
// (native/interrupt_timer.c, compiled by scripts/build-native.mjs): a timer thread per
// connection that interrupts the running statement when the deadline passes.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Database } from 'better-sqlite3';

const LIBRARY = fileURLToPath(new URL(`../../../build/interrupt_timer.${process.platform === 'darwin' ? 'dylib' : 'so'}`, import.meta.url));

/** Arms and disarms the deadline of one connection. */
export class InterruptTimer {
  private readonly arm: ReturnType<Database['prepare']>;

  private constructor(db: Database) {
    this.arm = db.prepare('SELECT raftkit_interrupt_after(?)');
  }

  /** The timer for `db`, or undefined when the extension was not built (no C compiler). */
  static load(db: Database): InterruptTimer | undefined {
    if (!existsSync(LIBRARY)) return undefined;
    db.loadExtension(LIBRARY);
    return new InterruptTimer(db);
  }

  /**
   * Runs `f` with the connection's statements interrupted after `ms` milliseconds: a statement
   * still running then fails with SQLITE_INTERRUPT (and SQLite rolls back its transaction).
   */
  within<T>(ms: number, f: () => T): T {
    this.arm.get(Math.max(1, Math.ceil(ms)));
    try {
      return f();
    } finally {
      this.disarm();
    }
  }

  private disarm(): void {
    // The deadline may pass just as `f` ends and interrupt this very statement: try again.
    for (let i = 0; i < 3; i++) {
      try {
        this.arm.get(0);
        return;
      } catch (e) {
        if ((e as { code?: string }).code !== 'SQLITE_INTERRUPT') throw e;
      }
    }
  }
}

/** Whether an error is SQLite's for an interrupted statement. */
export function isInterrupted(e: unknown): boolean {
  return (e as { code?: string } | null)?.code === 'SQLITE_INTERRUPT';
}
