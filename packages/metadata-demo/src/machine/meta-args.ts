// The arguments of the metadata machine's commands and queries (their JSON forms are in
// codec/wire-types.ts), checked with class-validator on the node that proposes them, before
// anything reaches the log: a malformed request is a 400 naming the field.
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  MaxLength,
  Min,
  Validate,
  ValidatorConstraint,
  type ValidationArguments,
  type ValidatorConstraintInterface,
} from 'class-validator';
import type { AlarmAction, AlarmType, SortOrder, SortTarget } from '../api/etcd-types.js';
import { count, isBase64, isInt64, isUint64, wireCompares, wireOps, type Check } from '../codec/wire-schema.js';
import type { B64, Int64, WireCompare, WireOp } from '../codec/wire-types.js';

/** Most lease ids one leaseExpire entry carries. */
export const MAX_EXPIRE_IDS = 10_000;

@ValidatorConstraint({ name: 'metaBytes' })
class BytesConstraint implements ValidatorConstraintInterface {
  validate(v: unknown): boolean {
    return isBase64(v);
  }
  defaultMessage(a: ValidationArguments): string {
    return `${a.property} must be base64 bytes`;
  }
}

@ValidatorConstraint({ name: 'metaInt64' })
class Int64Constraint implements ValidatorConstraintInterface {
  validate(v: unknown): boolean {
    return isInt64(v);
  }
  defaultMessage(a: ValidationArguments): string {
    return `${a.property} must be a 64-bit integer as a decimal string`;
  }
}

@ValidatorConstraint({ name: 'metaUint64' })
class Uint64Constraint implements ValidatorConstraintInterface {
  validate(v: unknown): boolean {
    return isUint64(v);
  }
  defaultMessage(a: ValidationArguments): string {
    return `${a.property} must be an unsigned 64-bit integer as a decimal string`;
  }
}

@ValidatorConstraint({ name: 'metaCount' })
class CountConstraint implements ValidatorConstraintInterface {
  validate(v: unknown): boolean {
    return count(v, '') === undefined;
  }
  defaultMessage(a: ValidationArguments): string {
    return `${a.property} must be an integer >= 0`;
  }
}

/** A constraint over a nested shape: the message names the exact bad field. */
function shapeConstraint(name: string, check: Check): new () => ValidatorConstraintInterface {
  @ValidatorConstraint({ name })
  class ShapeConstraint implements ValidatorConstraintInterface {
    validate(v: unknown, a: ValidationArguments): boolean {
      return check(v, a.property) === undefined;
    }
    defaultMessage(a: ValidationArguments): string {
      return check(a.value, a.property) ?? `${a.property} is not valid`;
    }
  }
  return ShapeConstraint;
}

const ComparesConstraint = shapeConstraint('metaCompares', wireCompares);
const OpsConstraint = shapeConstraint('metaOps', wireOps);
const LeaseIdsConstraint = shapeConstraint('metaLeaseIds', (v, p) => {
  if (!Array.isArray(v)) return `${p} must be an array`;
  if (v.length > MAX_EXPIRE_IDS) return `${p} has more than ${MAX_EXPIRE_IDS} ids`;
  const bad = v.findIndex((x) => !isInt64(x));
  return bad >= 0 ? `${p}[${bad}] must be a 64-bit integer as a decimal string` : undefined;
});

/** The quota a write is checked against (the receiving node's --quota-bytes); absent: etcd's default. */
class QuotaArgs {
  @IsOptional()
  @IsInt()
  @Min(1)
  quotaBytes?: number;
}

export class RangeArgs {
  @Validate(BytesConstraint) key!: B64;
  @IsOptional() @Validate(BytesConstraint) rangeEnd?: B64;
  @IsOptional() @Validate(CountConstraint) limit?: number;
  @IsOptional() @Validate(CountConstraint) revision?: number;
  @IsOptional() @IsIn(['none', 'ascend', 'descend']) sortOrder?: SortOrder;
  @IsOptional() @IsIn(['key', 'version', 'create', 'mod', 'value']) sortTarget?: SortTarget;
  @IsOptional() @IsBoolean() keysOnly?: boolean;
  @IsOptional() @IsBoolean() countOnly?: boolean;
  @IsOptional() @Validate(CountConstraint) minModRevision?: number;
  @IsOptional() @Validate(CountConstraint) maxModRevision?: number;
  @IsOptional() @Validate(CountConstraint) minCreateRevision?: number;
  @IsOptional() @Validate(CountConstraint) maxCreateRevision?: number;
}

export class PutArgs extends QuotaArgs {
  @Validate(BytesConstraint) key!: B64;
  @IsOptional() @Validate(BytesConstraint) value?: B64;
  @IsOptional() @Validate(Int64Constraint) lease?: Int64;
  @IsOptional() @IsBoolean() prevKv?: boolean;
  @IsOptional() @IsBoolean() ignoreValue?: boolean;
  @IsOptional() @IsBoolean() ignoreLease?: boolean;
}

export class DeleteRangeArgs {
  @Validate(BytesConstraint) key!: B64;
  @IsOptional() @Validate(BytesConstraint) rangeEnd?: B64;
  @IsOptional() @IsBoolean() prevKv?: boolean;
}

export class TxnArgs extends QuotaArgs {
  @IsOptional() @Validate(ComparesConstraint) compare?: WireCompare[];
  @IsOptional() @Validate(OpsConstraint) success?: WireOp[];
  @IsOptional() @Validate(OpsConstraint) failure?: WireOp[];
}

export class CompactArgs {
  @Validate(CountConstraint) revision!: number;
  /** etcd's physical flag; the compaction is always on disk when answered here. */
  @IsOptional() @IsBoolean() physical?: boolean;
}

export class LeaseGrantArgs extends QuotaArgs {
  /** Seconds (the node has raised it to the minimum TTL already). */
  @Validate(CountConstraint) ttl!: number;
  /** Absent or "0": the store picks one. */
  @IsOptional() @Validate(Int64Constraint) id?: Int64;
}

export class LeaseIdArgs {
  @Validate(Int64Constraint) id!: Int64;
}

export class LeaseExpireArgs {
  @Validate(LeaseIdsConstraint) ids!: Int64[];
}

export class LeaseTimeToLiveArgs {
  @Validate(Int64Constraint) id!: Int64;
  @IsOptional() @IsBoolean() keys?: boolean;
}

export class AlarmArgs {
  @IsIn(['get', 'activate', 'deactivate']) action!: AlarmAction;
  @IsOptional() @Validate(Uint64Constraint) memberId?: Int64;
  @IsOptional() @IsIn(['none', 'nospace', 'corrupt']) alarm?: AlarmType;
}

export class PublishMemberArgs {
  @IsInt() @Min(1) id!: number;
  @IsString() @MaxLength(256) name!: string;
  @IsArray() @ArrayMaxSize(16) @IsString({ each: true }) @MaxLength(1024, { each: true }) peerUrls!: string[];
  @IsArray() @ArrayMaxSize(16) @IsString({ each: true }) @MaxLength(1024, { each: true }) clientUrls!: string[];
  @IsArray() @ArrayMaxSize(16) @IsString({ each: true }) @MaxLength(1024, { each: true }) httpUrls!: string[];
}
