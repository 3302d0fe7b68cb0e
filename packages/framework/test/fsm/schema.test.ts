import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArrayMinSize, IsBoolean, IsDate, IsEnum, IsIn, IsNumber, IsOptional, IsString, MaxLength, ValidateNested, Allow } from 'class-validator';
import { Type } from 'class-transformer';
import { Command, Nullable, Query, StateMachine, StateMachineRegistry, buildGroupSchema, describeStateMachine } from '../../src/fsm/index.js';
import { KvMachine } from './machines.js';

test('the KV schema lists commands and queries with their argument shapes', () => {
  const schema = buildGroupSchema('kv', describeStateMachine(KvMachine));
  assert.deepEqual(schema, {
    group: 'kv',
    type: 'kv',
    commands: [
      {
        name: 'cas',
        kind: 'command',
        args: {
          key: { type: 'string', optional: false, nullable: false },
          expected: { type: 'string', optional: false, nullable: true },
          value: { type: 'string', optional: false, nullable: false },
        },
      },
      { name: 'delete', kind: 'command', args: { key: { type: 'string', optional: false, nullable: false } } },
      {
        name: 'put',
        kind: 'command',
        args: {
          key: { type: 'string', optional: false, nullable: false },
          value: { type: 'string', optional: false, nullable: false },
        },
      },
    ],
    queries: [
      { name: 'get', kind: 'query', args: { key: { type: 'string', optional: false, nullable: false } } },
      {
        name: 'range',
        kind: 'query',
        args: {
          prefix: { type: 'string', optional: false, nullable: false },
          limit: { type: 'integer', optional: true, nullable: true },
        },
      },
    ],
  });
  assert.deepEqual(new StateMachineRegistry([KvMachine]).schema('my-kv', 'kv').group, 'my-kv');
});

enum Color {
  Red = 'red',
  Blue = 'blue',
}

class Inner {
  @IsString() x!: string;
}

class Everything {
  @IsNumber() num!: number;
  @IsBoolean() flag!: boolean;
  @IsDate() @Type(() => Date) when!: Date;
  @IsEnum(Color) color!: Color;
  @IsIn([1, 2, 3]) small!: number;
  @IsString({ each: true }) tags!: string[];
  @ArrayMinSize(1) list!: unknown[];
  @MaxLength(3) short!: string;
  @ValidateNested() @Type(() => Inner) inner!: Inner;
  @Allow() anything!: unknown;
  @Allow() typed!: string;
  @IsOptional() @Nullable() maybe?: string | null;
}

test('types come from validators, then hints, then the TypeScript type, else any', () => {
  @StateMachine('every')
  class Every {
    @Command() go(_a: Everything): void {}
    @Query({ args: 'any' }) free(_a: unknown): void {}
    @Query() none(): void {}
  }
  const schema = buildGroupSchema('g', describeStateMachine(Every));
  const types = Object.fromEntries(Object.entries(schema.commands[0]!.args).map(([k, f]) => [k, f.type]));
  assert.deepEqual(types, {
    num: 'number',
    flag: 'boolean',
    when: 'date',
    color: 'string',
    small: 'number',
    tags: 'string[]',
    list: 'array',
    short: 'string',
    inner: 'object',
    anything: 'any',
    typed: 'string',
    maybe: 'any',
  });
  assert.deepEqual(schema.commands[0]!.args.maybe, { type: 'any', optional: true, nullable: true });
  assert.deepEqual(
    schema.queries.map((q) => [q.name, q.args]),
    [
      ['free', {}],
      ['none', {}],
    ],
  );
});
