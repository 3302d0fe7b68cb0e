import { RaftError } from '../errors.js';
import { JointConfig } from '../quorum/joint.js';
import type { Progress } from '../tracker/progress.js';
import type { ProgressTracker, TrackerConfig } from '../tracker/progress-tracker.js';
import type { ConfState, NodeId } from '../types.js';
import { ConfChangeTransition, ConfChangeType, isLeaveJoint, type ConfChange, type ConfChangeSingle } from './types.js';
import { isNodeId } from '../node-id.js';

export interface ChangeResult {
  config: TrackerConfig;
  progress: Map<NodeId, Progress>;
}

const invalid = (msg: string) => new RaftError('conf_change_invalid', msg);

/**
 * Computes the configuration that a ConfChange leads to, as a new value; the caller swaps it in.
 * Throws 'conf_change_invalid' and changes nothing if the change is not allowed.
 */
export class Changer {
  constructor(
    private readonly tracker: ProgressTracker,
    private readonly lastIndex: number,
  ) {}

  apply(cc: ConfChange): ChangeResult {
    if (isLeaveJoint(cc)) return this.leaveJoint();
    const joint = this.useJoint(cc);
    return joint ? this.enterJoint(cc.transition !== ConfChangeTransition.JointExplicit, cc.changes) : this.simple(cc.changes);
  }

  /** A single voter change (or learner-only changes) needs no joint state. */
  private useJoint(cc: ConfChange): boolean {
    if (cc.transition !== ConfChangeTransition.Auto) return true;
    return cc.changes.length > 1;
  }

  enterJoint(autoLeave: boolean, changes: ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.clone();
    if (config.voters.joint) throw invalid('already in a joint configuration; leave it first');
    if (config.voters.incoming.size === 0) throw invalid('cannot enter a joint configuration from an empty one');
    const incoming = new Set(config.voters.incoming);
    config.voters = new JointConfig(incoming, new Set(incoming));
    this.applyChanges(config, progress, changes);
    config.autoLeave = autoLeave;
    return this.checked(config, progress);
  }

  leaveJoint(): ChangeResult {
    const { config, progress } = this.clone();
    if (!config.voters.joint) throw invalid('cannot leave a joint configuration: not in one');
    for (const id of config.learnersNext) {
      config.learners.add(id);
      this.ensureProgress(progress, id, true, false).isLearner = true;
    }
    config.learnersNext.clear();
    const outgoing = config.voters.outgoing;
    config.voters = new JointConfig(config.voters.incoming, new Set());
    for (const id of outgoing) {
      if (!config.voters.incoming.has(id) && !config.learners.has(id)) progress.delete(id);
      if (!config.voters.incoming.has(id)) config.witnesses.delete(id);
    }
    config.autoLeave = false;
    return this.checked(config, progress);
  }

  simple(changes: ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.clone();
    if (config.voters.joint) throw invalid('cannot apply a simple change while in a joint configuration');
    const before = new Set(config.voters.incoming);
    this.applyChanges(config, progress, changes);
    let diff = 0;
    for (const id of before) if (!config.voters.incoming.has(id)) diff++;
    for (const id of config.voters.incoming) if (!before.has(id)) diff++;
    if (diff > 1) throw invalid('more than one voter changed without a joint configuration');
    return this.checked(config, progress);
  }

  private clone(): ChangeResult {
    const c = this.tracker.config;
    const config: TrackerConfig = {
      voters: new JointConfig(new Set(c.voters.incoming), new Set(c.voters.outgoing)),
      learners: new Set(c.learners),
      learnersNext: new Set(c.learnersNext),
      witnesses: new Set(c.witnesses),
      autoLeave: c.autoLeave,
    };
    return { config, progress: new Map(this.tracker.progress) };
  }

  private applyChanges(config: TrackerConfig, progress: Map<NodeId, Progress>, changes: ConfChangeSingle[]): void {
    for (const ch of changes) {
      const id = ch.nodeId;
      if (!isNodeId(id)) throw invalid(`node id must be a positive integer, got ${id}`);
      switch (ch.type) {
        case ConfChangeType.AddVoter:
          if (config.witnesses.has(id)) throw invalid(`node ${id} is a witness and cannot become a data voter`);
          this.makeVoter(config, progress, id, false);
          break;
        case ConfChangeType.AddWitness:
          if (progress.has(id) && !config.witnesses.has(id)) throw invalid(`node ${id} already holds data and cannot become a witness`);
          this.makeVoter(config, progress, id, true);
          break;
        case ConfChangeType.AddLearner:
          if (config.witnesses.has(id)) throw invalid(`node ${id} is a witness and cannot become a learner`);
          this.makeLearner(config, progress, id);
          break;
        case ConfChangeType.RemoveNode:
          this.remove(config, progress, id);
          break;
        default:
          throw invalid(`unknown change type ${String((ch as ConfChangeSingle).type)}`);
      }
    }
    if (config.voters.incoming.size === 0) throw invalid('removing all voters is not allowed');
  }

  /** The member's Progress, copied if it is the live one, so a rejected change leaves no trace. */
  private ensureProgress(progress: Map<NodeId, Progress>, id: NodeId, learner: boolean, witness: boolean): Progress {
    let pr = progress.get(id);
    if (pr && pr === this.tracker.progress.get(id)) {
      pr = Object.assign(Object.create(Object.getPrototypeOf(pr) as object) as Progress, pr);
      progress.set(id, pr);
    }
    if (!pr) {
      pr = this.tracker.newProgress(Math.max(this.lastIndex, 1), learner, witness);
      // A new member counts as active so that check-quorum does not depose the leader at once.
      pr.recentActive = true;
      progress.set(id, pr);
    }
    return pr;
  }

  private makeVoter(config: TrackerConfig, progress: Map<NodeId, Progress>, id: NodeId, witness: boolean): void {
    const pr = this.ensureProgress(progress, id, false, witness);
    pr.isLearner = false;
    pr.isWitness = witness;
    if (witness) config.witnesses.add(id);
    config.learners.delete(id);
    config.learnersNext.delete(id);
    (config.voters.incoming as Set<NodeId>).add(id);
  }

  private makeLearner(config: TrackerConfig, progress: Map<NodeId, Progress>, id: NodeId): void {
    const pr = this.ensureProgress(progress, id, true, false);
    if (config.learners.has(id)) return;
    (config.voters.incoming as Set<NodeId>).delete(id);
    // A voter of the outgoing config stays a voter until the joint state is left.
    if (config.voters.outgoing.has(id)) {
      config.learnersNext.add(id);
    } else {
      pr.isLearner = true;
      config.learners.add(id);
    }
  }

  private remove(config: TrackerConfig, progress: Map<NodeId, Progress>, id: NodeId): void {
    if (!progress.has(id)) return;
    (config.voters.incoming as Set<NodeId>).delete(id);
    config.learners.delete(id);
    config.learnersNext.delete(id);
    if (!config.voters.outgoing.has(id)) {
      progress.delete(id);
      config.witnesses.delete(id);
    }
  }

  private checked(config: TrackerConfig, progress: Map<NodeId, Progress>): ChangeResult {
    for (const id of config.learners) {
      if (config.voters.has(id)) throw invalid(`node ${id} is both a voter and a learner`);
    }
    for (const id of config.learnersNext) {
      if (!config.voters.outgoing.has(id)) throw invalid(`node ${id} is in learnersNext but not an outgoing voter`);
    }
    for (const id of config.voters.ids()) if (!progress.has(id)) throw invalid(`voter ${id} has no progress`);
    if (!config.voters.joint && config.autoLeave) throw invalid('autoLeave set outside a joint configuration');
    return { config, progress };
  }
}

/** Builds a tracker configuration directly from a ConfState (restart, snapshot install). */
export function restoreConfig(tracker: ProgressTracker, cs: ConfState, lastIndex: number): ChangeResult {
  const witnesses = new Set(cs.witnesses);
  const config: TrackerConfig = {
    voters: new JointConfig(new Set(cs.voters), new Set(cs.votersOutgoing)),
    learners: new Set(cs.learners),
    learnersNext: new Set(cs.learnersNext),
    witnesses,
    autoLeave: cs.autoLeave,
  };
  const progress = new Map<NodeId, Progress>();
  const add = (id: NodeId, learner: boolean) => {
    if (progress.has(id)) return;
    const pr = tracker.newProgress(Math.max(lastIndex, 1), learner, witnesses.has(id));
    pr.recentActive = true;
    progress.set(id, pr);
  };
  for (const id of cs.voters) add(id, false);
  for (const id of cs.votersOutgoing) add(id, false);
  for (const id of cs.learners) add(id, true);
  for (const id of cs.learnersNext) add(id, true);
  for (const id of config.learners) {
    if (config.voters.has(id)) throw invalid(`node ${id} is both a voter and a learner`);
  }
  return { config, progress };
}
