import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IsString } from 'class-validator';
import { Command, Query, Restore, Snapshot, StateMachine } from '../../src/fsm/index.js';
import { RaftModule, RaftService } from '../../src/nest/index.js';
import { RaftkitError } from '../../src/common/errors.js';
import type { ServerFlags } from '../../src/server/flags.js';

@Injectable()
class Greeter {
  readonly prefix = 'hello, ';
}

class GreetArgs {
  @IsString()
  name!: string;
}

class NoArgs {}

/** A state machine with a constructor dependency from the Nest container. */
@StateMachine('greeter')
class GreetMachine {
  private greeted: string[] = [];
  constructor(private readonly greeter: Greeter) {}

  @Command()
  greet(a: GreetArgs): string {
    this.greeted.push(a.name);
    return this.greeter.prefix + a.name;
  }

  @Query()
  all(_a: NoArgs): string[] {
    return this.greeted;
  }

  @Snapshot()
  save(): string[] {
    return this.greeted;
  }

  @Restore()
  load(state: string[]): void {
    this.greeted = state;
  }
}

@Module({ providers: [Greeter], exports: [Greeter] })
class GreeterModule {}

/** The single node elects itself within a few ticks; until then proposals are refused. */
async function proposeWhenLeader(raft: RaftService, args: unknown): Promise<{ result: unknown; index: number }> {
  for (let i = 0; ; i++) {
    try {
      return await raft.propose('hi', 'greet', args);
    } catch (e) {
      if (i > 200 || !(e instanceof RaftkitError) || (e.code !== 'not_leader' && e.code !== 'unavailable')) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

function flags(dataDir: string): ServerFlags {
  return {
    id: 1,
    listen: { host: '127.0.0.1', port: 0 },
    peers: new Map([[1, '127.0.0.1:0']]),
    join: undefined,
    dataDir,
    token: undefined,
    logLevel: 'silent',
    repairTornTail: false,
    help: false,
  };
}

test('RaftModule runs discovered state machines with injected dependencies behind RaftService', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftkit-nest-'));
  @Module({
    imports: [GreeterModule, RaftModule.forRootAsync({ useFactory: () => ({ node: flags(dir), groups: [{ name: 'hi', type: 'greeter' }], host: { tickMs: 10 } }) })],
    providers: [Greeter, GreetMachine],
  })
  class AppModule {}
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
  try {
    const raft = app.get(RaftService);
    const out = await proposeWhenLeader(raft, { name: 'raft' });
    assert.equal(out.result, 'hello, raft');
    assert.ok(out.index > 1);
    await assert.rejects(raft.propose('hi', 'greet', { name: 7 }), (e: unknown) => e instanceof RaftkitError && e.code === 'bad_request');
    const q = await raft.query<string[]>('hi', 'all', {}, 'linearizable');
    assert.deepEqual(q.result, ['raft']);
    // The watch replays from the start and follows new entries.
    const seen: string[] = [];
    const it = raft.watch('hi', 1);
    await raft.propose('hi', 'greet', { name: 'again' });
    for await (const e of it) {
      seen.push(String(e.result));
      if (seen.length === 2) break;
    }
    assert.deepEqual(seen, ['hello, raft', 'hello, again']);
    assert.equal(raft.schema('hi').commands[0]!.name, 'greet');
    assert.equal(raft.status().groups[0]!.role, 'leader');
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RaftModule.forFeature declares state machines; forRoot takes the node flags directly', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftkit-nest-'));
  @Module({
    imports: [RaftModule.forRoot({ node: flags(dir), groups: [{ name: 'hi', type: 'greeter' }] }), GreeterModule, RaftModule.forFeature([GreetMachine])],
    providers: [Greeter],
  })
  class AppModule {}
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
  try {
    const raft = app.get(RaftService);
    assert.deepEqual(
      raft.status().groups.map((g) => g.type),
      ['greeter'],
    );
    const out = await proposeWhenLeader(raft, { name: 'feature' });
    assert.equal(out.result, 'hello, feature');
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
