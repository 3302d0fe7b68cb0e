// How a handler's argument type is found, and that a type which cannot be found stops the
// definition instead of switching validation off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IsInt, IsString } from 'class-validator';
import {
  Command,
  PARAM_TYPES_METADATA,
  Query,
  StateMachine,
  StateMachineDefinitionError,
  StateMachineRegistry,
  convertArgs,
  describeStateMachine,
  describeHandlerArgs,
} from '../../src/fsm/index.js';
import { RaftkitError } from '../../src/common/errors.js';

class SetStockArgs {
  @IsString() sku!: string;
  @IsInt() qty!: number;
}

class ReservedStockArgs extends SetStockArgs {}

interface StockLine {
  sku: string;
  qty: number;
}

/**
 * What a class compiled without `emitDecoratorMetadata` looks like at run time: no
 * `design:paramtypes` on its methods. Call before the class is first described (definitions are
 * cached per class).
 */
function withoutEmittedMetadata(cls: abstract new (...args: never[]) => object): void {
  const proto = cls.prototype as object;
  for (const key of Reflect.ownKeys(proto)) Reflect.deleteMetadata(PARAM_TYPES_METADATA, proto, key);
}

const definitionError =
  (...patterns: RegExp[]) =>
  (e: unknown) => {
    assert.ok(e instanceof StateMachineDefinitionError, `expected a StateMachineDefinitionError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  };

test('without emitted metadata, a handler that takes an argument is refused at startup, naming the fix', () => {
  @StateMachine('stock-unmarked')
  class Stock {
    @Command() set(_a: SetStockArgs): void {}
  }
  assert.ok(Reflect.getMetadata(PARAM_TYPES_METADATA, Stock.prototype, 'set'), 'the test build emits metadata; the helper removes it');
  withoutEmittedMetadata(Stock);
  assert.throws(
    () => new StateMachineRegistry([Stock]),
    definitionError(
      /@Command Stock\.set takes an argument, but its type was not emitted/,
      /compile with emitDecoratorMetadata: true \(and experimentalDecorators\) in tsconfig/,
      /@Command\(\{ args: /,
    ),
  );
});

test('the hint repeats the handler name given to the decorator', () => {
  @StateMachine('stock-named')
  class Stock {
    @Query('level') levelOf(_a: SetStockArgs): void {}
  }
  withoutEmittedMetadata(Stock);
  assert.throws(() => describeStateMachine(Stock), definitionError(/@Query Stock\.levelOf/, /@Query\("level", \{ args: YourArgsClass \}\)/));
});

test('without emitted metadata, a handler with no parameter still takes no args', () => {
  @StateMachine('stock-reset')
  class Stock {
    @Command() reset(): void {}
  }
  withoutEmittedMetadata(Stock);
  const reset = describeStateMachine(Stock).commands.get('reset')!;
  assert.equal(reset.argKind, 'none');
  assert.throws(
    () => convertArgs(reset, { x: 1 }),
    (e: unknown) => e instanceof RaftkitError && e.code === 'bad_request',
  );
});

test('a declared argument class is validated without any emitted metadata', () => {
  @StateMachine('stock-declared')
  class Stock {
    @Command({ args: SetStockArgs }) set(_a: SetStockArgs): void {}
    @Command('setExact', { args: SetStockArgs }) setNamed(_a: SetStockArgs): void {}
    @Query({ name: 'count', args: Number }) countOf(_n: number): void {}
  }
  withoutEmittedMetadata(Stock);
  const d = describeStateMachine(Stock);
  assert.deepEqual([...d.commands.keys()], ['set', 'setExact']);
  for (const h of d.commands.values()) {
    assert.equal(h.argType, SetStockArgs);
    assert.ok(convertArgs(h, { sku: 'a', qty: 3 }) instanceof SetStockArgs);
    assert.throws(
      () => convertArgs(h, { sku: 'a', qty: 'lots' }),
      (e: unknown) => e instanceof RaftkitError && e.code === 'bad_request' && e.details.field === 'qty',
    );
  }
  assert.deepEqual(Object.keys(describeHandlerArgs(d.commands.get('set')!)), ['sku', 'qty'], 'the schema shows the declared class');
  const count = d.queries.get('count')!;
  assert.equal(count.argKind, 'number');
  assert.throws(() => convertArgs(count, '3'), /must be a finite number/);
});

test('args: "any" knowingly takes the JSON unvalidated, with or without metadata', () => {
  @StateMachine('stock-any')
  class Stock {
    @Command({ args: 'any' }) raw(_a: StockLine): void {}
    @Command({ args: 'any' }) rawUnmarked(_a: SetStockArgs): void {}
  }
  // Only one method loses its metadata: the other keeps its (Object) parameter type.
  Reflect.deleteMetadata(PARAM_TYPES_METADATA, Stock.prototype, 'rawUnmarked');
  const d = describeStateMachine(Stock);
  for (const h of d.commands.values()) {
    assert.equal(h.argKind, 'any');
    assert.deepEqual(convertArgs(h, { sku: 'a', qty: 'lots' }), { sku: 'a', qty: 'lots' });
  }
});

test('a parameter typed by an interface, a type alias, a union, unknown or a record is refused', () => {
  type Line = { sku: string };
  @StateMachine('by-interface')
  class ByInterface {
    @Command() set(_a: StockLine): void {}
  }
  @StateMachine('by-alias')
  class ByAlias {
    @Command('put') set(_a: Line): void {}
  }
  @StateMachine('by-union')
  class ByUnion {
    @Query() find(_a: string | number): void {}
  }
  @StateMachine('by-unknown')
  class ByUnknown {
    @Query() find(_a: unknown): void {}
  }
  @StateMachine('by-record')
  class ByRecord {
    @Command() set(_a: Record<string, number>): void {}
  }
  const classTypeMissing = /has no class type \(its type is reflected as Object, as an interface, a type alias, any, unknown or a union is\)/;
  const fix = /give the argument a class type \(validated with class-validator\) or declare it explicitly/;
  assert.throws(
    () => describeStateMachine(ByInterface),
    definitionError(/@Command ByInterface\.set/, classTypeMissing, fix, /@Command\(\{ args: YourArgsClass \}\), or \{ args: 'any' \}/),
  );
  assert.throws(() => describeStateMachine(ByAlias), definitionError(/@Command ByAlias\.set/, classTypeMissing, /@Command\("put", \{ args:/));
  assert.throws(() => describeStateMachine(ByUnion), definitionError(/@Query ByUnion\.find/, classTypeMissing, fix));
  assert.throws(() => describeStateMachine(ByUnknown), definitionError(/@Query ByUnknown\.find/, classTypeMissing));
  assert.throws(() => describeStateMachine(ByRecord), definitionError(/@Command ByRecord\.set/, classTypeMissing));
});

test('a parameter typed by a built-in JSON cannot carry is refused', () => {
  @StateMachine('by-date')
  class ByDate {
    @Command() at(_when: Date): void {}
  }
  assert.throws(() => describeStateMachine(ByDate), definitionError(/@Command ByDate\.at is typed Date, which JSON args cannot be/, /declare it explicitly/));
});

test('a declaration that contradicts the parameter type, or declares nothing usable, is refused', () => {
  @StateMachine('any-vs-class')
  class AnyVsClass {
    @Command({ args: 'any' }) set(_a: SetStockArgs): void {}
  }
  assert.throws(() => describeStateMachine(AnyVsClass), definitionError(/AnyVsClass\.set declares args: 'any' but its parameter is typed SetStockArgs/));

  class OtherArgs {
    @IsString() name!: string;
  }
  @StateMachine('class-vs-class')
  class ClassVsClass {
    @Command({ args: OtherArgs }) set(_a: SetStockArgs): void {}
  }
  assert.throws(() => describeStateMachine(ClassVsClass), definitionError(/ClassVsClass\.set declares args: OtherArgs but its parameter is typed SetStockArgs/));

  @StateMachine('declares-object')
  class DeclaresObject {
    @Command({ args: Object }) set(_a: StockLine): void {}
  }
  assert.throws(() => describeStateMachine(DeclaresObject), definitionError(/DeclaresObject\.set declares args: Object; declare an argument class/));

  @StateMachine('declares-junk')
  class DeclaresJunk {
    @Command({ args: 'anything' as 'any' }) set(_a: StockLine): void {}
  }
  assert.throws(() => describeStateMachine(DeclaresJunk), definitionError(/DeclaresJunk\.set declares args: "anything"/));

  @StateMachine('declares-subclass')
  class DeclaresSubclass {
    @Command({ args: ReservedStockArgs }) set(_a: SetStockArgs): void {}
  }
  assert.equal(describeStateMachine(DeclaresSubclass).commands.get('set')!.argType, ReservedStockArgs, 'a subclass of the parameter type agrees with it');
});
