import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IsString } from 'class-validator';
import {
  COMMAND_METADATA,
  Command,
  Query,
  QUERY_METADATA,
  Restore,
  Snapshot,
  STATE_MACHINE_METADATA,
  StateMachine,
  StateMachineDefinitionError,
  StateMachineRegistry,
  convertArgs,
  describeStateMachine,
} from '../../src/fsm/index.js';
import { RaftkitError } from '../../src/common/errors.js';
import { AddArgs, CounterMachine, KeyArgs, KvMachine, PutArgs } from './machines.js';

const definitionError = (pattern: RegExp) => (e: unknown) => e instanceof StateMachineDefinitionError && pattern.test(e.message);

test('decorators only write metadata: the type on the class, names on the methods', () => {
  assert.deepEqual(Reflect.getMetadata(STATE_MACHINE_METADATA, KvMachine), { type: 'kv' });
  assert.deepEqual(Reflect.getMetadata(COMMAND_METADATA, KvMachine.prototype.put), { name: 'put' });
  assert.deepEqual(Reflect.getMetadata(QUERY_METADATA, KvMachine.prototype.get), { name: 'get' });
  assert.deepEqual(Reflect.getMetadata(COMMAND_METADATA, CounterMachine.prototype.addAsync), { name: 'addLater' });
});

test('describeStateMachine reads commands, queries, hooks and argument classes', () => {
  const kv = describeStateMachine(KvMachine);
  assert.equal(kv.type, 'kv');
  assert.equal(kv.target, KvMachine);
  assert.deepEqual([...kv.commands.keys()], ['put', 'delete', 'cas']);
  assert.deepEqual([...kv.queries.keys()], ['get', 'range']);
  assert.equal(kv.commands.get('put')!.argType, PutArgs);
  assert.equal(kv.commands.get('put')!.argKind, 'dto');
  assert.equal(kv.queries.get('get')!.argType, KeyArgs);
  assert.deepEqual(kv.hooks, {});
  assert.equal(describeStateMachine(KvMachine), kv, 'cached per class');

  const counter = describeStateMachine(CounterMachine);
  assert.equal(counter.commands.get('addLater')!.method, 'addAsync');
  assert.equal(counter.commands.get('add')!.argType, AddArgs);
  assert.equal(counter.commands.get('fail')!.argKind, 'none');
  assert.deepEqual(counter.hooks, { snapshot: 'save', restore: 'load' });
});

test('primitive and knowingly untyped parameters get their own argument kinds', () => {
  @StateMachine('kinds')
  class Kinds {
    @Command() s(_a: string): void {}
    @Command() n(_a: number): void {}
    @Command() b(_a: boolean): void {}
    @Command() l(_a: string[]): void {}
    @Command({ args: 'any' }) u(_a: unknown): void {}
    @Query({ args: 'any' }) r(_a: Record<string, number>): void {}
  }
  const d = describeStateMachine(Kinds);
  assert.deepEqual(
    [...d.commands.values(), ...d.queries.values()].map((h) => h.argKind),
    ['string', 'number', 'boolean', 'array', 'any', 'any'],
  );
});

test('a class without @StateMachine is refused, also when its parent has one', () => {
  class Plain {
    @Command() go(): void {}
  }
  assert.throws(() => describeStateMachine(Plain), definitionError(/class Plain is not a state machine: add @StateMachine/));
  class Child extends KvMachine {}
  assert.throws(() => describeStateMachine(Child), definitionError(/class Child is not a state machine/));
  assert.throws(() => describeStateMachine(undefined as never), definitionError(/expects a class/));
});

test('a subclass with its own @StateMachine inherits and overrides handlers', () => {
  @StateMachine('kv2')
  class Kv2 extends KvMachine {
    @Command()
    override put(a: PutArgs): { revision: number } {
      return super.put({ key: a.key, value: a.value.toUpperCase() });
    }
    @Command() clear(): void {
      this.data.clear();
    }
  }
  const d = describeStateMachine(Kv2);
  assert.equal(d.type, 'kv2');
  assert.deepEqual([...d.commands.keys()].sort(), ['cas', 'clear', 'delete', 'put']);
  assert.deepEqual([...d.queries.keys()].sort(), ['get', 'range']);
});

test('misuse is a clear error: duplicate names, fields, accessors, statics, double roles, hooks', () => {
  @StateMachine('dup')
  class Dup {
    @Command('go') a(): void {}
    @Command('go') b(): void {}
  }
  assert.throws(() => describeStateMachine(Dup), definitionError(/command "go" is declared twice .*Dup\.a and Dup\.b/));

  @StateMachine('field')
  class OnField {
    @Command() notAMethod = 1;
  }
  assert.throws(() => describeStateMachine(OnField), definitionError(/@Command is on OnField\.notAMethod, which is a field, not a method/));

  @StateMachine('accessor')
  class OnAccessor {
    @Query() get size(): number {
      return 1;
    }
  }
  assert.throws(() => describeStateMachine(OnAccessor), definitionError(/@Query is on OnAccessor\.size, which is an accessor/));

  @StateMachine('static')
  class OnStatic {
    @Command() static go(): void {}
  }
  assert.throws(() => describeStateMachine(OnStatic), definitionError(/@Command is on the static member OnStatic\.go/));

  @StateMachine('both')
  class Both {
    @Command() @Query() go(): void {}
  }
  assert.throws(() => describeStateMachine(Both), definitionError(/Both\.go has both/));

  @StateMachine('hooks')
  class TwoSnapshots {
    @Snapshot() a(): unknown {
      return 1;
    }
    @Snapshot() b(): unknown {
      return 2;
    }
    @Restore() c(): void {}
  }
  assert.throws(() => describeStateMachine(TwoSnapshots), definitionError(/@Snapshot is on both TwoSnapshots\.a and TwoSnapshots\.b/));

  @StateMachine('half')
  class SnapshotOnly {
    @Snapshot() a(): unknown {
      return 1;
    }
  }
  assert.throws(() => describeStateMachine(SnapshotOnly), definitionError(/has no @Restore method/));

  @StateMachine('bad name!')
  class BadType {}
  assert.throws(() => describeStateMachine(BadType), definitionError(/the type must be 1-128 letters/));

  @StateMachine('badcmd')
  class BadCommandName {
    @Command('has space') a(): void {}
  }
  assert.throws(() => describeStateMachine(BadCommandName), definitionError(/@Command name "has space"/));

  const sym = Symbol('go');
  @StateMachine('sym')
  class SymbolNamed {
    @Command() [sym](): void {}
  }
  assert.throws(() => describeStateMachine(SymbolNamed), definitionError(/symbol-named method .* needs a name/));
});

test('a command and a query may share a name (they are separate namespaces)', () => {
  @StateMachine('shared')
  class Shared {
    @Command('x') setX(): void {}
    @Query('x') getX(): void {}
  }
  const d = describeStateMachine(Shared);
  assert.ok(d.commands.has('x') && d.queries.has('x'));
});

test('the registry knows types, refuses a type taken by another class, and makes managers', () => {
  const registry = new StateMachineRegistry([KvMachine, CounterMachine]);
  assert.deepEqual(registry.types(), ['counter', 'kv']);
  assert.equal(registry.register(KvMachine).type, 'kv', 'registering again is a no-op');
  @StateMachine('kv')
  class OtherKv {}
  assert.throws(() => registry.register(OtherKv), definitionError(/"kv" is declared by both KvMachine and OtherKv/));
  assert.throws(
    () => registry.createManager('nope'),
    (e: unknown) => e instanceof RaftkitError && e.code === 'bad_request' && /unknown state machine type "nope" \(known types: counter, kv\)/.test(e.message),
  );
  const made: string[] = [];
  const factory = registry.factory({ onCreate: (group, m) => made.push(`${group}:${m.type}`) });
  const sm = factory('g1', 'kv');
  assert.equal(typeof sm.apply, 'function');
  assert.deepEqual(made, ['g1:kv']);
  const instances: object[] = [];
  const custom = registry.createManager('counter', 'g2', {
    instantiate: (cls) => {
      const i = new cls();
      instances.push(i);
      return i;
    },
  });
  assert.equal(custom.type, 'counter');
  assert.equal(instances.length, 1);
  assert.throws(() => registry.createManager('counter', 'g3', { instantiate: () => ({}) }), /must be a CounterMachine/);
});

test('undecorated DTO fields are not arguments: the schema skips them and validation refuses them', () => {
  class Loose {
    @IsString() a!: string;
    b?: string;
  }
  @StateMachine('loose')
  class LooseMachine {
    @Command() go(_x: Loose): void {}
  }
  const registry = new StateMachineRegistry([LooseMachine]);
  assert.deepEqual(Object.keys(registry.schema('g', 'loose').commands[0]!.args), ['a']);
  const go = describeStateMachine(LooseMachine).commands.get('go')!;
  assert.doesNotThrow(() => convertArgs(go, { a: 'x' }));
  assert.throws(
    () => convertArgs(go, { a: 'x', b: 'y' }),
    (e: unknown) => e instanceof RaftkitError && e.details.field === 'b',
  );
});
