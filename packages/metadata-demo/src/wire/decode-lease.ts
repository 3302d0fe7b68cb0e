// Lease and maintenance requests from the wire into the etcd types.
import type { AlarmRequest, LeaseGrantRequest, LeaseRevokeRequest, LeaseTimeToLiveRequest } from '../api/etcd-types.js';
import { MetaError } from '../api/meta-error.js';
import { ALARM_ACTIONS, ALARM_TYPES, enumName } from './enums.js';
import { toBigInt, toNumber } from './int64.js';
import type { WireAlarmRequest, WireLeaseGrantRequest, WireLeaseIdRequest, WireLeaseTimeToLiveRequest } from './wire-types.js';

export function decodeLeaseGrant(w: WireLeaseGrantRequest): LeaseGrantRequest {
  return { ttl: toNumber(w.TTL), id: toBigInt(w.ID) };
}

export function decodeLeaseRevoke(w: WireLeaseIdRequest): LeaseRevokeRequest {
  return { id: toBigInt(w.ID) };
}

export function decodeLeaseTimeToLive(w: WireLeaseTimeToLiveRequest): LeaseTimeToLiveRequest {
  return { id: toBigInt(w.ID), keys: w.keys === true };
}

export function decodeAlarm(w: WireAlarmRequest): AlarmRequest {
  const action = enumName(ALARM_ACTIONS, w.action);
  const alarm = enumName(ALARM_TYPES, w.alarm);
  if (action === undefined) throw new MetaError('invalid_argument', `etcdserver: invalid argument: unknown alarm action ${String(w.action)}`);
  if (alarm === undefined) throw new MetaError('invalid_argument', `etcdserver: invalid argument: unknown alarm type ${String(w.alarm)}`);
  return { action, memberId: toBigInt(w.memberID), alarm };
}
