// @StateMachine(type, { storage: 'disk' }): what a definition records and the misuse it refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command, Query, Restore, Snapshot, STATE_MACHINE_METADATA, StateMachine, StateMachineDefinitionError, describeStateMachine } from '../../src/fsm/index.js';
import { DecoratedMachine } from '../../src/fsm/decorated-machine.js';
import { FakeDiskMachine } from '../rsm/fake-disk-machine.js';
import { KvMachine } from './machines.js';

const definitionError = (pattern: RegExp) => (e: unknown) => e instanceof StateMachineDefinitionError && pattern.test(e.message);

/** The OnDiskStateMachine methods, as a base for classes that leave some out. */
class Base {
  open(): number {
    return 0;
  }
  prepareSnapshot(): void {}
  async saveSnapshot(): Promise<void> {}
  async recoverFromSnapshot(): Promise<void> {}
  close(): void {}
}

test('storage is recorded: memory by default, disk when asked; the machine exposes itself as its disk', () => {
  assert.deepEqual(Reflect.getMetadata(STATE_MACHINE_METADATA, FakeDiskMachine), { type: 'fake-disk', storage: 'disk' });
  assert.equal(describeStateMachine(FakeDiskMachine).storage, 'disk');
  assert.equal(describeStateMachine(KvMachine).storage, 'memory');
  @StateMachine('explicit-memory', { storage: 'memory' })
  class Explicit {
    @Command() go(): void {}
  }
  assert.equal(describeStateMachine(Explicit).storage, 'memory');

  const instance = new FakeDiskMachine();
  assert.equal(new DecoratedMachine(describeStateMachine(FakeDiskMachine), instance).disk, instance);
  assert.equal(new DecoratedMachine(describeStateMachine(KvMachine), new KvMachine()).disk, undefined);
});

test('the OnDiskStateMachine methods may be inherited; releaseSnapshot is optional', () => {
  @StateMachine('inherits-disk', { storage: 'disk' })
  class Inherits extends Base {
    @Command() go(): void {}
    @Query() look(): number {
      return 1;
    }
  }
  const d = describeStateMachine(Inherits);
  assert.equal(d.storage, 'disk');
  assert.deepEqual([...d.commands.keys(), ...d.queries.keys()], ['go', 'look']);
});

test('a disk machine without every OnDiskStateMachine method is refused, naming the missing ones', () => {
  @StateMachine('no-methods', { storage: 'disk' })
  class Bare {
    @Command() go(): void {}
  }
  assert.throws(
    () => describeStateMachine(Bare),
    definitionError(
      /^@StateMachine\('no-methods', \{ storage: 'disk' \}\) on class Bare: it must implement OnDiskStateMachine; missing open\(\), prepareSnapshot\(\), saveSnapshot\(\), recoverFromSnapshot\(\), close\(\)$/,
    ),
  );

  @StateMachine('two-missing', { storage: 'disk' })
  class TwoMissing {
    open(): number {
      return 0;
    }
    prepareSnapshot(): void {}
    async saveSnapshot(): Promise<void> {}
    @Command() go(): void {}
  }
  assert.throws(() => describeStateMachine(TwoMissing), definitionError(/on class TwoMissing: it must implement OnDiskStateMachine; missing recoverFromSnapshot\(\), close\(\)$/));

  // An arrow function in a field is not a method of the class.
  @StateMachine('field-only', { storage: 'disk' })
  class FieldOnly {
    open = (): number => 0;
    prepareSnapshot(): void {}
    async saveSnapshot(): Promise<void> {}
    async recoverFromSnapshot(): Promise<void> {}
    close(): void {}
  }
  assert.throws(() => describeStateMachine(FieldOnly), definitionError(/missing open\(\)$/));
});

test('@Snapshot or @Restore on a disk machine is refused: its snapshots are files', () => {
  @StateMachine('disk-with-snapshot', { storage: 'disk' })
  class WithSnapshot extends Base {
    @Snapshot() save(): unknown {
      return {};
    }
    @Restore() load(_s: unknown): void {}
  }
  assert.throws(
    () => describeStateMachine(WithSnapshot),
    definitionError(/^WithSnapshot\.save: a \{ storage: 'disk' \} state machine snapshots its files \(saveSnapshot \/ recoverFromSnapshot\); remove @Snapshot and @Restore$/),
  );

  @StateMachine('disk-with-restore', { storage: 'disk' })
  class WithRestore extends Base {
    @Restore() load(_s: unknown): void {}
  }
  assert.throws(() => describeStateMachine(WithRestore), definitionError(/^WithRestore\.load: a \{ storage: 'disk' \} state machine snapshots its files/));
});

test('a storage other than memory or disk is refused', () => {
  for (const storage of ['file', 'Disk', '', 1]) {
    @StateMachine('bad-storage', { storage: storage as never })
    class Bad extends Base {}
    assert.throws(
      () => describeStateMachine(Bad),
      definitionError(new RegExp(`^@StateMachine\\('bad-storage', \\{ storage: ${JSON.stringify(storage)} \\}\\) on class Bad: storage must be 'memory' or 'disk'$`)),
      String(storage),
    );
  }
});
