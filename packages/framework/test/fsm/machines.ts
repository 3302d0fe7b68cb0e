// Decorated state machines shared by the fsm and rsm tests.
import { IsInt, IsNotEmpty, IsOptional, IsString, Min } from 'class-validator';
import { Command, Nullable, Query, Restore, Snapshot, StateMachine, type CommandContext } from '../../src/fsm/index.js';
import { RaftkitError } from '../../src/common/errors.js';

export class PutArgs {
  @IsString()
  @IsNotEmpty()
  key!: string;

  @IsString()
  value!: string;
}

export class KeyArgs {
  @IsString()
  @IsNotEmpty()
  key!: string;
}

export class CasArgs {
  @IsString()
  @IsNotEmpty()
  key!: string;

  /** null: the key must be absent. */
  @Nullable()
  @IsString()
  expected!: string | null;

  @IsString()
  value!: string;
}

export class RangeArgs {
  @IsString()
  prefix!: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  limit?: number;
}

interface Item {
  value: string;
  revision: number;
}

/** The KV demo's state machine (docs/api.md section 3), with the default snapshot. */
@StateMachine('kv')
export class KvMachine {
  data = new Map<string, Item>();
  revision = 0;

  @Command()
  put(a: PutArgs): { revision: number } {
    this.revision++;
    this.data.set(a.key, { value: a.value, revision: this.revision });
    return { revision: this.revision };
  }

  @Command()
  delete(a: KeyArgs): { deleted: boolean; revision: number } {
    if (!this.data.has(a.key)) return { deleted: false, revision: this.revision };
    this.revision++;
    this.data.delete(a.key);
    return { deleted: true, revision: this.revision };
  }

  @Command()
  cas(a: CasArgs): { succeeded: boolean; revision: number } {
    const current = this.data.get(a.key)?.value ?? null;
    if (current !== a.expected) return { succeeded: false, revision: this.revision };
    return { succeeded: true, ...this.put({ key: a.key, value: a.value }) };
  }

  @Query()
  get(a: KeyArgs): { value: string | null; revision: number } {
    const item = this.data.get(a.key);
    return { value: item?.value ?? null, revision: item?.revision ?? 0 };
  }

  @Query()
  range(a: RangeArgs): { items: { key: string; value: string; revision: number }[] } {
    const items = [...this.data.entries()]
      .filter(([k]) => k.startsWith(a.prefix))
      .sort(([x], [y]) => (x < y ? -1 : 1))
      .map(([key, item]) => ({ key, ...item }));
    return { items: items.slice(0, a.limit ?? items.length) };
  }
}

export class AddArgs {
  @IsInt()
  by!: number;
}

/** A counter with async handlers, failing handlers and a custom snapshot. */
@StateMachine('counter')
export class CounterMachine {
  value = 0;
  log: number[] = [];
  restores = 0;

  @Command()
  add(a: AddArgs, ctx: CommandContext): { value: number; index: number; term: number; timestamp: number } {
    this.value += a.by;
    this.log.push(ctx.index);
    return { value: this.value, index: ctx.index, term: ctx.term, timestamp: ctx.timestamp };
  }

  @Command('addLater')
  async addAsync(a: AddArgs, ctx: CommandContext): Promise<{ value: number }> {
    await new Promise((r) => setTimeout(r, 2));
    this.value += a.by;
    this.log.push(ctx.index);
    return { value: this.value };
  }

  @Command()
  fail(): never {
    throw new Error('the counter refuses');
  }

  @Command()
  async failLater(): Promise<never> {
    await Promise.resolve();
    throw new RaftkitError('conflict', 'not now', { hint: 'later' });
  }

  @Command()
  reset(): void {
    this.value = 0;
  }

  @Query()
  current(): number {
    return this.value;
  }

  @Query()
  async currentLater(): Promise<number> {
    await Promise.resolve();
    return this.value;
  }

  @Snapshot()
  save(): { v: number; log: number[] } {
    return { v: this.value, log: [...this.log] };
  }

  @Restore()
  async load(state: { v: number; log: number[] }): Promise<void> {
    await Promise.resolve();
    if (typeof state?.v !== 'number') throw new Error('counter snapshot needs a number v');
    this.value = state.v;
    this.log = state.log;
    this.restores++;
  }
}
