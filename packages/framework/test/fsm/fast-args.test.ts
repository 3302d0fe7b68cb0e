import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from 'class-transformer';
import {
  Allow,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  Validate,
  ValidateIf,
  ValidateNested,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { convertArgs, convertDto } from '../../src/fsm/args-converter.js';
import { fastConvert } from '../../src/fsm/fast-args.js';
import { Nullable, type HandlerDefinition } from '../../src/fsm/index.js';
import { RaftkitError } from '../../src/common/errors.js';

class Put {
  @IsString()
  @IsNotEmpty()
  key!: string;

  @IsString()
  value!: string;
}

class Mixed {
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @Nullable()
  @IsString()
  @Length(2, 5)
  expected!: string | null;

  @IsBoolean()
  flag!: boolean;

  @IsDefined()
  @Matches(/^[a-z]+$/)
  name!: string;

  @ValidateIf((o: Mixed) => o.flag === true)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  amount?: number;

  @IsIn(['a', 'b'], { validateIf: (_o: unknown, v: unknown) => v !== 'skip' })
  mode!: string;

  @Allow()
  note?: unknown;
}

class WithDefault {
  @IsInt()
  size = 10;

  @IsString()
  label!: string;
}

class Inner {
  @IsString()
  x!: string;
}

/** Not for the fast path: a class-transformer decorator, nested validation, `each`. */
class Nested {
  @ValidateNested()
  @Type(() => Inner)
  inner!: Inner;

  @IsString({ each: true })
  tags!: string[];
}

/** A structured argument checked by a custom constraint, as the SQL store's statements are. */
@ValidatorConstraint({ name: 'statementList' })
class StatementList implements ValidatorConstraintInterface {
  validate(v: unknown): boolean {
    return (
      Array.isArray(v) &&
      v.every((s) => (Array.isArray(s) && typeof s[0] === 'string') || (typeof s === 'object' && s !== null && typeof (s as { sql?: unknown }).sql === 'string'))
    );
  }
}

class Statements {
  @IsArray()
  @Validate(StatementList)
  statements!: unknown[];

  @IsOptional()
  @IsBoolean()
  transaction?: boolean;
}

const FIELDS: Record<string, string[]> = {
  Put: ['key', 'value'],
  Mixed: ['limit', 'expected', 'flag', 'name', 'amount', 'mode', 'note'],
  WithDefault: ['size', 'label'],
  Nested: ['inner', 'tags'],
  Statements: ['statements', 'transaction'],
};

/** A small deterministic PRNG, so a failure names a reproducible case. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const VALUES: unknown[] = ['', 'a', 'b', 'ab', 'abc', 'abcdef', 'skip', 'Z9', 0, 1, -1, 1.5, 50, 100, 101, 1e21, true, false, null, { x: 'y' }, [1], ['a'], {}];

/** Values each field accepts, so that many inputs are valid (and take the fast path). */
const GOOD: Record<string, unknown[]> = {
  key: ['a', 'abc'],
  value: ['', 'v'],
  limit: [1, 50, 100],
  expected: [null, 'ab', 'abcde'],
  flag: [true, false],
  name: ['abc'],
  amount: [1.5, 0],
  mode: ['a', 'b', 'skip'],
  note: ['x', 1, null],
  size: [1, 20],
  label: ['l'],
  inner: [{ x: 'a' }],
  tags: [['a']],
  statements: [[['INSERT ?', 1, null, 'x']], [{ sql: 'SELECT :a', params: { a: [1, { b: true }] } }, ['x']], [], [['a'], 'not a statement']],
  transaction: [true, false],
};

function randomInput(r: () => number, fields: string[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields) {
    if (r() >= 0.85) continue;
    const pool = r() < 0.85 ? GOOD[f]! : VALUES;
    o[f] = pool[Math.floor(r() * pool.length)];
  }
  if (r() < 0.1) o['extra'] = 'x';
  if (r() < 0.02) o['__proto__'] = 'p';
  return o;
}

test('the fast argument path answers exactly what class-transformer + class-validator answer, or defers to them', () => {
  const classes: [string, new () => object][] = [
    ['Put', Put],
    ['Mixed', Mixed],
    ['WithDefault', WithDefault],
    ['Nested', Nested],
    ['Statements', Statements],
  ];
  const hits: Record<string, number> = {};
  for (const [name, cls] of classes) {
    hits[name] = 0;
    const r = rng(name.length * 7919);
    for (let i = 0; i < 3000; i++) {
      const input = JSON.parse(JSON.stringify(randomInput(r, FIELDS[name]!))) as Record<string, unknown>;
      const fast = fastConvert(cls, input);
      const slow = convertDto(cls, JSON.parse(JSON.stringify(input)) as Record<string, unknown>);
      const what = `${name} ${JSON.stringify(input)}`;
      if (fast === undefined) continue;
      hits[name]!++;
      assert.ok('instance' in slow, `fast path accepted what the validator refuses: ${what} (${JSON.stringify(slow)})`);
      assert.ok(fast instanceof cls, what);
      assert.deepEqual({ ...fast }, { ...slow.instance }, what);
      assert.deepEqual(Object.keys(fast), Object.keys(slow.instance), what);
    }
  }
  // The path is actually taken for the simple classes, never for the nested one.
  assert.ok(hits['Put']! > 500 && hits['Mixed']! > 10 && hits['WithDefault']! > 100 && hits['Statements']! > 500, JSON.stringify(hits));
  assert.equal(hits['Nested'], 0);
  assert.equal(fastConvert(Nested, { inner: { x: 'a' }, tags: ['a'] }), undefined);
  assert.ok(fastConvert(Put, { key: 'k', value: 'v' }) instanceof Put);
  // Structured values go by reference only when plain JSON: no own __proto__ key (the copy would
  // make it a prototype), nothing but arrays and plain objects, not too deep.
  assert.ok(fastConvert(Statements, { statements: [['a', { n: 1 }]] }) instanceof Statements);
  assert.equal(fastConvert(Statements, JSON.parse('{"statements":[{"sql":"x","__proto__":{"a":1}}]}') as Record<string, unknown>), undefined);
  assert.equal(fastConvert(Statements, { statements: [['a', new Date(0)]] }), undefined);
  assert.equal(fastConvert(Statements, { statements: [['a', Buffer.from('x')]] }), undefined);
  let deep: unknown = 'x';
  for (let i = 0; i < 40; i++) deep = [deep];
  assert.equal(fastConvert(Statements, { statements: [['a', deep]] }), undefined);
});

test('an invalid input of a class the fast path handles reports every bad field, as the class-validator path does', () => {
  const mixed: HandlerDefinition = { kind: 'command', name: 'mixed', method: 'mixed', argType: Mixed, argKind: 'dto' };
  const valid = { expected: null, flag: true, name: 'abc', amount: 1, mode: 'a' };
  assert.ok(fastConvert(Mixed, valid) instanceof Mixed, 'Mixed takes the fast path');
  const input = { ...valid, limit: 0, flag: 'yes', name: 'ABC', extra: 1 };
  const slow = convertDto(Mixed, { ...input });
  assert.ok('failures' in slow);
  assert.throws(
    () => convertArgs(mixed, input),
    (e: unknown) => {
      assert.ok(e instanceof RaftkitError && e.code === 'bad_request', String(e));
      assert.deepEqual(e.details.fields, slow.failures);
      assert.deepEqual(
        (e.details.fields as { field: string }[]).map((f) => f.field),
        ['extra', 'limit', 'flag', 'name'],
      );
      assert.equal(e.details.field, 'extra');
      return true;
    },
  );
});
