import { IsInt, IsNotEmpty, IsOptional, IsString, Max, Min } from 'class-validator';
import { Nullable } from '@raftkit/framework/fsm';

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

  /** The value the key must have for the swap to happen; null: the key must be absent. */
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
  @Max(10_000)
  limit?: number;
}
