// Cluster breakpoints: conditions on the whole cluster, checked after every step. A state
// condition (a term above N, a commit index reached) stops the run at the step where it becomes
// true, so that "run to breakpoint" goes to the first matching event rather than staying put.

import { EmulatorError } from './errors.js';
import type { Frame } from './frame.js';
import type { MessageRecord } from './messages.js';

export type Breakpoint =
  | { kind: 'leader-elected' }
  | { kind: 'term-above'; term: number; node?: number }
  | { kind: 'commit-reaches'; index: number; node?: number }
  | { kind: 'message-sent'; type: string }
  | { kind: 'invariant' };

export const BREAKPOINT_KINDS = ['leader-elected', 'term-above', 'commit-reaches', 'message-sent', 'invariant'] as const;

export function describeBreakpoint(b: Breakpoint): string {
  const on = (node?: number) => (node === undefined ? 'any node' : `n${node}`);
  switch (b.kind) {
    case 'leader-elected':
      return 'a leader is elected';
    case 'term-above':
      return `${on(b.node)}'s term > ${b.term}`;
    case 'commit-reaches':
      return `${on(b.node)}'s commit ≥ ${b.index}`;
    case 'message-sent':
      return `a ${b.type} message is sent`;
    case 'invariant':
      return 'an invariant is broken';
  }
}

export function parseBreakpoint(v: unknown, messageTypes: readonly string[]): Breakpoint {
  const o = v as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null || typeof o.kind !== 'string') throw new EmulatorError('bad_breakpoint', 'a breakpoint needs a kind');
  const num = (k: string, min: number): number => {
    const x = o[k];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min) throw new EmulatorError('bad_breakpoint', `${k} must be an integer ≥ ${min}`);
    return x;
  };
  const node = (): number | undefined => (o.node === undefined ? undefined : num('node', 1));
  switch (o.kind) {
    case 'leader-elected':
    case 'invariant':
      return { kind: o.kind };
    case 'term-above': {
      const b: Breakpoint = { kind: 'term-above', term: num('term', 0) };
      const n = node();
      if (n !== undefined) b.node = n;
      return b;
    }
    case 'commit-reaches': {
      const b: Breakpoint = { kind: 'commit-reaches', index: num('index', 1) };
      const n = node();
      if (n !== undefined) b.node = n;
      return b;
    }
    case 'message-sent':
      if (typeof o.type !== 'string' || !messageTypes.includes(o.type)) throw new EmulatorError('bad_breakpoint', `type must be one of ${messageTypes.join(', ')}`);
      return { kind: 'message-sent', type: o.type };
    default:
      throw new EmulatorError('bad_breakpoint', `unknown breakpoint kind "${String(o.kind)}"; one of ${BREAKPOINT_KINDS.join(', ')}`);
  }
}

/** Why the step that produced `cur` (after `prev`) hits the breakpoint, or undefined. */
export function breakpointHit(b: Breakpoint, prev: Frame, cur: Frame, sent: readonly MessageRecord[]): string | undefined {
  const pick = (f: Frame, node?: number) => f.nodes.filter((n) => n.up && (node === undefined || n.id === node));
  switch (b.kind) {
    case 'leader-elected': {
      const before = new Set(prev.nodes.filter((n) => n.role === 'leader').map((n) => `${n.id}/${n.term}`));
      const fresh = cur.nodes.find((n) => n.role === 'leader' && !before.has(`${n.id}/${n.term}`));
      return fresh ? `n${fresh.id} became leader of term ${fresh.term}` : undefined;
    }
    case 'term-above': {
      const was = pick(prev, b.node).some((n) => n.term > b.term);
      const now = pick(cur, b.node).find((n) => n.term > b.term);
      return !was && now ? `n${now.id} reached term ${now.term}` : undefined;
    }
    case 'commit-reaches': {
      const was = pick(prev, b.node).some((n) => n.commit >= b.index);
      const now = pick(cur, b.node).find((n) => n.commit >= b.index);
      return !was && now ? `n${now.id} committed up to ${now.commit}` : undefined;
    }
    case 'message-sent': {
      const m = sent.find((r) => r.type === b.type);
      return m ? `sent ${m.label}` : undefined;
    }
    case 'invariant':
      return cur.violation ? `invariant broken: ${cur.violation}` : undefined;
  }
}
