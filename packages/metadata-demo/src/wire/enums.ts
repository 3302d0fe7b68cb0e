// etcd's enums between their wire numbers and the etcd types' names. An unknown number on the
// way in is answered with the error the caller passes (etcd 3.4 crashes on an unknown sort
// target and silently ignores unknown compare values; refusing them is the safe reading).
import type { AlarmAction, AlarmType, CompareResult, CompareTarget, EventType, SortOrder, SortTarget, WatchFilter } from '../api/etcd-types.js';

/** The names in wire-number order (index = the enum's number). */
export const SORT_ORDERS: readonly SortOrder[] = ['none', 'ascend', 'descend'];
export const SORT_TARGETS: readonly SortTarget[] = ['key', 'version', 'create', 'mod', 'value'];
export const COMPARE_RESULTS: readonly CompareResult[] = ['equal', 'greater', 'less', 'not_equal'];
export const COMPARE_TARGETS: readonly CompareTarget[] = ['version', 'create', 'mod', 'value', 'lease'];
export const WATCH_FILTERS: readonly WatchFilter[] = ['noput', 'nodelete'];
export const EVENT_TYPES: readonly EventType[] = ['put', 'delete'];
export const ALARM_TYPES: readonly AlarmType[] = ['none', 'nospace', 'corrupt'];
export const ALARM_ACTIONS: readonly AlarmAction[] = ['get', 'activate', 'deactivate'];

/** The name of wire number `n` (absent: the enum's zero), or undefined for a number etcd does not define. */
export function enumName<T>(names: readonly T[], n: number | null | undefined): T | undefined {
  return names[n ?? 0];
}

/** The wire number of a name. */
export function enumNumber<T>(names: readonly T[], name: T): number {
  const i = names.indexOf(name);
  return i < 0 ? 0 : i;
}
