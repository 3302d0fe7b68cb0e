import { httpStatusOf } from '../../src/api/errors.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IsArray, IsInt, IsOptional, IsString, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import { Command, StateMachine, convertArgs, describeStateMachine } from '../../src/fsm/index.js';
import { RaftkitError } from '../../src/common/errors.js';
import { CasArgs, KvMachine, PutArgs, RangeArgs } from './machines.js';

const kv = describeStateMachine(KvMachine);
const put = kv.commands.get('put')!;

function badRequest(field: string | undefined, pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof RaftkitError, `expected a RaftkitError, got ${String(e)}`);
    assert.equal(e.code, 'bad_request');
    assert.equal(httpStatusOf(e), 400);
    assert.match(e.message, pattern);
    assert.equal(e.details.field, field);
    return true;
  };
}

test('args become an instance of the argument class', () => {
  const a = convertArgs(put, { key: 'k', value: 'v' });
  assert.ok(a instanceof PutArgs);
  assert.deepEqual({ ...(a as PutArgs) }, { key: 'k', value: 'v' });
});

test('a bad argument names the field', () => {
  assert.throws(() => convertArgs(put, { key: 'k', value: 5 }), badRequest('value', /bad argument "value" of command "put": value must be a string/));
  assert.throws(() => convertArgs(put, { value: 'v' }), badRequest('key', /bad argument "key"/));
  assert.throws(() => convertArgs(put, { key: '', value: 'v' }), badRequest('key', /key should not be empty/));
  assert.throws(() => convertArgs(put, undefined), badRequest('key', /2 bad arguments of command "put": "key" \(.*\), "value" \(.*\)/));
});

test('unknown fields are refused (whitelist + forbidNonWhitelisted)', () => {
  assert.throws(() => convertArgs(put, { key: 'k', value: 'v', extra: 1 }), badRequest('extra', /property extra should not exist/));
});

test('args that are not an object are refused', () => {
  assert.throws(() => convertArgs(put, 'k=v'), badRequest(undefined, /arguments of command "put" must be a JSON object/));
  assert.throws(() => convertArgs(put, [{ key: 'k', value: 'v' }]), badRequest(undefined, /must be a JSON object/));
});

test('a prototype key does not smuggle anything past validation', () => {
  const raw = JSON.parse('{"key":"k","value":"v","__proto__":{"admin":true}}') as unknown;
  const a = convertArgs(put, raw) as PutArgs & { admin?: boolean };
  assert.ok(a instanceof PutArgs);
  assert.equal(a.admin, undefined);
});

test('nullable and optional fields', () => {
  const cas = kv.commands.get('cas')!;
  assert.equal((convertArgs(cas, { key: 'k', expected: null, value: 'v' }) as CasArgs).expected, null);
  assert.throws(() => convertArgs(cas, { key: 'k', value: 'v' }), badRequest('expected', /expected must be a string/));
  const range = kv.queries.get('range')!;
  assert.equal((convertArgs(range, { prefix: 'a' }) as RangeArgs).limit, undefined);
  assert.equal((convertArgs(range, { prefix: 'a', limit: null }) as RangeArgs).limit, null);
  assert.throws(() => convertArgs(range, { prefix: 'a', limit: 0 }), badRequest('limit', /limit must not be less than 1/));
  assert.throws(() => convertArgs(range, { prefix: 'a', limit: 1.5 }), badRequest('limit', /integer/));
});

test('nested argument classes report the path of the bad field, indexes in brackets', () => {
  class Pair {
    @IsString() key!: string;
    @IsInt() n!: number;
  }
  class Batch {
    @IsArray()
    @ValidateNested({ each: true })
    @Type(() => Pair)
    items!: Pair[];
    @IsOptional() @IsString() note?: string;
  }
  @StateMachine('nested')
  class Nested {
    @Command() batch(_b: Batch): void {}
  }
  const h = describeStateMachine(Nested).commands.get('batch')!;
  const ok = convertArgs(h, { items: [{ key: 'a', n: 1 }] }) as Batch;
  assert.ok(ok.items[0] instanceof Pair);
  assert.throws(
    () =>
      convertArgs(h, {
        items: [
          { key: 'a', n: 1 },
          { key: 'b', n: 'x' },
        ],
      }),
    badRequest('items[1].n', /bad argument "items\[1\]\.n"/),
  );
  assert.throws(() => convertArgs(h, { items: [{ key: 'a', n: 1, bad: true }] }), badRequest('items[0].bad', /should not exist/));
});

test('primitive, array, untyped and parameterless handlers', () => {
  @StateMachine('prims')
  class Prims {
    @Command() s(_a: string): void {}
    @Command() n(_a: number): void {}
    @Command() b(_a: boolean): void {}
    @Command() l(_a: string[]): void {}
    @Command({ args: 'any' }) u(_a: unknown): void {}
    @Command() none(): void {}
  }
  const d = describeStateMachine(Prims);
  const h = (n: string) => d.commands.get(n)!;
  assert.equal(convertArgs(h('s'), 'x'), 'x');
  assert.throws(() => convertArgs(h('s'), 1), badRequest(undefined, /argument of command "s" must be a string/));
  assert.equal(convertArgs(h('n'), 2), 2);
  assert.throws(() => convertArgs(h('n'), Number.NaN), badRequest(undefined, /finite number/));
  assert.equal(convertArgs(h('b'), false), false);
  assert.throws(() => convertArgs(h('b'), 'true'), badRequest(undefined, /must be a boolean/));
  assert.deepEqual(convertArgs(h('l'), ['a']), ['a']);
  assert.throws(() => convertArgs(h('l'), 'a'), badRequest(undefined, /must be an array/));
  assert.deepEqual(convertArgs(h('u'), { any: [1] }), { any: [1] });
  assert.equal(convertArgs(h('none'), undefined), undefined);
  assert.equal(convertArgs(h('none'), {}), undefined);
  assert.throws(() => convertArgs(h('none'), { x: 1 }), badRequest(undefined, /command "none" takes no arguments/));
});

/** The details of the 'bad_request' that convertArgs throws for `raw`. */
function refusal(h: Parameters<typeof convertArgs>[0], raw: unknown): { message: string; field: unknown; fields: unknown } {
  try {
    convertArgs(h, raw);
  } catch (e) {
    assert.ok(e instanceof RaftkitError && e.code === 'bad_request', String(e));
    return { message: e.message, field: e.details.field, fields: e.details.fields };
  }
  assert.fail(`expected ${JSON.stringify(raw)} to be refused`);
}

test('every bad field is reported: details.fields lists them, details.field is the first, the message names them all', () => {
  const r = refusal(put, { key: '', value: 5, extra: 1 });
  // In class-validator's order: unknown properties first, then the declared fields.
  assert.deepEqual(r.fields, [
    { field: 'extra', message: 'property extra should not exist' },
    { field: 'key', message: 'key should not be empty' },
    { field: 'value', message: 'value must be a string' },
  ]);
  assert.equal(r.field, 'extra');
  assert.equal(r.message, '3 bad arguments of command "put": "extra" (property extra should not exist), "key" (key should not be empty), "value" (value must be a string)');
});

test('a single bad field has the same details shape', () => {
  const r = refusal(put, { key: 'k', value: 5 });
  assert.deepEqual(r.fields, [{ field: 'value', message: 'value must be a string' }]);
  assert.equal(r.field, 'value');
});

test('nested bad fields are all reported, with their paths', () => {
  class Line {
    @IsString() sku!: string;
    @IsInt() qty!: number;
  }
  class Order {
    @IsArray()
    @ValidateNested({ each: true })
    @Type(() => Line)
    items!: Line[];
    @IsString() customer!: string;
  }
  @StateMachine('orders')
  class Orders {
    @Command() place(_o: Order): void {}
  }
  const place = describeStateMachine(Orders).commands.get('place')!;
  const r = refusal(place, {
    items: [
      { sku: 'a', qty: 'lots' },
      { sku: 'b', qty: 1 },
      { sku: 3, qty: 2, colour: 'red' },
    ],
    customer: 7,
  });
  assert.deepEqual(r.fields, [
    { field: 'items[0].qty', message: 'qty must be an integer number' },
    { field: 'items[2].colour', message: 'property colour should not exist' },
    { field: 'items[2].sku', message: 'sku must be a string' },
    { field: 'customer', message: 'customer must be a string' },
  ]);
  assert.equal(r.field, 'items[0].qty');
});

test('the message lists ten bad fields and counts the rest; details.fields keeps them all', () => {
  const extras = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`x${i}`, i]));
  const r = refusal(put, { key: 'k', value: 'v', ...extras });
  assert.equal((r.fields as unknown[]).length, 12);
  assert.match(r.message, /^12 bad arguments of command "put": "x0" .*"x9" \(property x9 should not exist\), and 2 more \(details\.fields lists them all\)$/);
  assert.doesNotMatch(r.message, /"x10"/);
});
