import type { ConfState, NodeId } from './types.js';

export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], witnesses: [], autoLeave: false };
}

export function cloneConfState(cs: ConfState): ConfState {
  return {
    voters: [...cs.voters],
    learners: [...cs.learners],
    votersOutgoing: [...cs.votersOutgoing],
    learnersNext: [...cs.learnersNext],
    witnesses: [...cs.witnesses],
    autoLeave: cs.autoLeave,
  };
}

/** Every node that appears in the configuration in any role, sorted. */
export function confStateMembers(cs: ConfState): NodeId[] {
  const all = new Set<NodeId>([...cs.voters, ...cs.learners, ...cs.votersOutgoing, ...cs.learnersNext]);
  return [...all].sort((a, b) => a - b);
}

export function confStateEquals(a: ConfState, b: ConfState): boolean {
  const same = (x: NodeId[], y: NodeId[]) => {
    if (x.length !== y.length) return false;
    const xs = [...x].sort((p, q) => p - q);
    const ys = [...y].sort((p, q) => p - q);
    return xs.every((v, i) => v === ys[i]);
  };
  return (
    same(a.voters, b.voters) &&
    same(a.learners, b.learners) &&
    same(a.votersOutgoing, b.votersOutgoing) &&
    same(a.learnersNext, b.learnersNext) &&
    same(a.witnesses, b.witnesses) &&
    a.autoLeave === b.autoLeave
  );
}
