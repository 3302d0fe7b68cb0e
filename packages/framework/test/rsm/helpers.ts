import { EntryType, type Entry } from '../../src/core/types.js';
import { encodeCommand } from '../../src/rsm/command-codec.js';
import type { RequestKey } from '../../src/rsm/request-table.js';

export const T0 = 1_700_000_000_000;

/** A command entry as the host hands it to apply(). */
export function entry(
  index: number,
  command: string,
  args?: unknown,
  opts: { clientId?: string; sequence?: number; request?: RequestKey; timestamp?: number; term?: number } = {},
): Entry {
  const payload: Parameters<typeof encodeCommand>[0] = { command, args, timestamp: opts.timestamp ?? T0 + index };
  if (opts.clientId !== undefined) payload.clientId = opts.clientId;
  if (opts.sequence !== undefined) payload.sequence = opts.sequence;
  if (opts.request !== undefined) payload.request = opts.request;
  return { index, term: opts.term ?? 1, type: EntryType.Normal, data: encodeCommand(payload) };
}

export function rawEntry(index: number, data: Uint8Array | string, term = 1): Entry {
  return { index, term, type: EntryType.Normal, data: typeof data === 'string' ? new TextEncoder().encode(data) : data };
}

/** apply() may answer synchronously or not; tests await either. */
export async function applyAll(sm: { apply(e: readonly Entry[]): unknown[] | Promise<unknown[]> }, entries: Entry[]): Promise<unknown[]> {
  return await sm.apply(entries);
}
