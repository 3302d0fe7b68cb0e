// Picks the next membership change for the driver: add a learner, promote it, remove a node,
// swap two voters through a joint configuration, add or remove a witness, leave a joint
// configuration. Every choice keeps the configuration able to make progress once healed:
// at least three voters, at least two data voters, witnesses a minority of them.

import { ConfChangeTransition, ConfChangeType, type ConfChange, type ConfChangeSingle } from '../core/confchange/types.js';
import type { ConfState, NodeId } from '../core/types.js';
import type { Prng } from './prng.js';

export interface MembershipView {
  /** Running nodes that were started to join but are not members yet (safe to add). */
  joiners: NodeId[];
  /** A fresh node id to start, or undefined if the pool is used up. */
  freshId: () => NodeId | undefined;
  /** Ids whose removal was proposed: never added or promoted again. */
  retired: ReadonlySet<NodeId>;
  isWitness: (id: NodeId) => boolean;
}

export interface MembershipChange {
  label: string;
  cc: ConfChange;
  /** A node to start before proposing (it joins with an empty log). */
  spawn?: { id: NodeId; witness: boolean };
  /** Nodes this change removes. */
  removes: NodeId[];
}

const MAX_VOTERS = 7;

function acceptable(voters: NodeId[], witnesses: NodeId[]): boolean {
  const w = voters.filter((v) => witnesses.includes(v)).length;
  const data = voters.length - w;
  return voters.length >= 3 && voters.length <= MAX_VOTERS && data >= 2 && w < data;
}

export function chooseMembershipChange(rng: Prng, cs: ConfState, view: MembershipView): MembershipChange | undefined {
  const single = (type: ConfChangeType, nodeId: NodeId): ConfChangeSingle => ({ type, nodeId });
  const auto = (changes: ConfChangeSingle[]): ConfChange => ({ transition: ConfChangeTransition.Auto, changes });

  if (cs.votersOutgoing.length > 0) {
    // Nothing else is accepted in a joint configuration; an explicit one must be left by hand.
    return cs.autoLeave ? undefined : { label: 'leave joint configuration', cc: auto([]), removes: [] };
  }

  const options: Array<() => MembershipChange | undefined> = [];
  const voters = cs.voters;
  const witnesses = cs.witnesses;
  const dataLearners = cs.learners.filter((l) => !view.isWitness(l) && !view.retired.has(l));
  const joinerOrFresh = (): { id: NodeId; spawn: boolean } | undefined => {
    const j = view.joiners.filter((id) => !view.isWitness(id));
    if (j.length > 0) return { id: rng.pick(j), spawn: false };
    const id = view.freshId();
    return id === undefined ? undefined : { id, spawn: true };
  };

  options.push(() => {
    const n = joinerOrFresh();
    if (!n) return undefined;
    return {
      label: `add learner ${n.id}`,
      cc: auto([single(ConfChangeType.AddLearner, n.id)]),
      spawn: n.spawn ? { id: n.id, witness: false } : undefined,
      removes: [],
    };
  });

  if (dataLearners.length > 0 && acceptable([...voters, 0], witnesses)) {
    options.push(() => {
      const l = rng.pick(dataLearners);
      return { label: `promote learner ${l}`, cc: auto([single(ConfChangeType.AddVoter, l)]), removes: [] };
    });
  }

  if (acceptable([...voters, 0], witnesses)) {
    options.push(() => {
      const n = joinerOrFresh();
      if (!n) return undefined;
      return {
        label: `add voter ${n.id} directly`,
        cc: auto([single(ConfChangeType.AddVoter, n.id)]),
        spawn: n.spawn ? { id: n.id, witness: false } : undefined,
        removes: [],
      };
    });
  }

  const removable = [...voters, ...cs.learners].filter((id) => {
    const rest = voters.filter((v) => v !== id);
    return !voters.includes(id) || acceptable(rest, witnesses);
  });
  if (removable.length > 0) {
    options.push(() => {
      const id = rng.pick(removable);
      const kind = voters.includes(id) ? (witnesses.includes(id) ? 'witness' : 'voter') : 'learner';
      return { label: `remove ${kind} ${id}`, cc: auto([single(ConfChangeType.RemoveNode, id)]), removes: [id] };
    });
  }

  // Replace a data voter by a learner in one step: a joint configuration, left automatically
  // or (JointExplicit) by a later empty change.
  const swappable = voters.filter((v) => !witnesses.includes(v));
  if (dataLearners.length > 0 && swappable.length > 0) {
    options.push(() => {
      const inc = rng.pick(dataLearners);
      const out = rng.pick(swappable);
      const after = [...voters.filter((v) => v !== out), inc];
      if (!acceptable(after, witnesses)) return undefined;
      const transition = rng.pick([ConfChangeTransition.Auto, ConfChangeTransition.JointImplicit, ConfChangeTransition.JointExplicit]);
      return {
        label: `swap voter ${out} for ${inc} (${transition})`,
        cc: { transition, changes: [single(ConfChangeType.AddVoter, inc), single(ConfChangeType.RemoveNode, out)] },
        removes: [out],
      };
    });
  }

  if (acceptable([...voters, -1], [...witnesses, -1])) {
    options.push(() => {
      const waiting = view.joiners.filter((id) => view.isWitness(id));
      const id = waiting.length > 0 ? rng.pick(waiting) : view.freshId();
      if (id === undefined) return undefined;
      return {
        label: `add witness ${id}`,
        cc: auto([single(ConfChangeType.AddWitness, id)]),
        spawn: waiting.includes(id) ? undefined : { id, witness: true },
        removes: [],
      };
    });
  }

  if (options.length === 0) return undefined;
  return rng.pick(options)();
}
