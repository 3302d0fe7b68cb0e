import type { Entry } from './types.js';

export const entrySize = (e: Entry): number => e.data.length + 16;

/** The longest prefix of ents within maxSize bytes, but always at least one entry. */
export function limitSize(ents: Entry[], maxSize: number): Entry[] {
  if (ents.length <= 1) return ents;
  let size = entrySize(ents[0]!);
  for (let i = 1; i < ents.length; i++) {
    size += entrySize(ents[i]!);
    if (size > maxSize) return ents.slice(0, i);
  }
  return ents;
}
