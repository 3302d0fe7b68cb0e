import type { NodeId } from '../types.js';

export enum ConfChangeType {
  AddVoter = 'add-voter',
  AddLearner = 'add-learner',
  /** A voter that votes and counts for commit from entry metadata but never holds data or leads. */
  AddWitness = 'add-witness',
  RemoveNode = 'remove-node',
}

export enum ConfChangeTransition {
  /**
   * A single voter change is applied directly (one-server change); anything larger goes through
   * a joint configuration that is left automatically once applied.
   */
  Auto = 'auto',
  /** Always use a joint configuration and leave it automatically. */
  JointImplicit = 'joint-implicit',
  /** Always use a joint configuration and stay in it until an empty change is proposed. */
  JointExplicit = 'joint-explicit',
}

export interface ConfChangeSingle {
  type: ConfChangeType;
  nodeId: NodeId;
}

/**
 * A membership change. An empty `changes` list means "leave the joint configuration".
 * `context` is opaque to the core (the host stores a new member's address there).
 */
export interface ConfChange {
  transition: ConfChangeTransition;
  changes: ConfChangeSingle[];
  context?: string;
}

export function isLeaveJoint(cc: ConfChange): boolean {
  return cc.changes.length === 0;
}
