// The message-flow sequence diagram, drawn from the run's message records: one lifeline per
// node, time going down, an arrow per message copy from its send to its arrival (dashed while
// still on its way), a red ✕ where one was lost or dropped. Filterable by type and by node.

import type { Frame, MessageRecord } from '../../engine/index.js';
import { esc } from '../dom.js';

export interface FlowFilter {
  /** Types hidden from the diagram. */
  hidden: Set<string>;
  /** Only messages from or to this node (0: all). */
  node: number;
  /** Ticks of history shown above the current time. */
  window: number;
}

const COLOURS: Record<string, string> = {
  Append: '#2857b8',
  AppendResponse: '#6f8fd6',
  Heartbeat: '#9a9aa0',
  HeartbeatResponse: '#c0c0c6',
  Vote: '#b36b00',
  VoteResponse: '#d99a3d',
  PreVote: '#b38f00',
  PreVoteResponse: '#d6b94a',
  Snapshot: '#7b2cbf',
  TimeoutNow: '#1f7a3a',
  ReadIndex: '#0b7285',
  ReadIndexResponse: '#3bb3c3',
};

const WIDTH = 620;
const TOP = 28;
const HEIGHT = 440;

export function renderSequence(frames: readonly Frame[], position: number, records: readonly MessageRecord[], filter: FlowFilter): string {
  const now = frames[position]!.time;
  const start = Math.max(0, now - filter.window);
  const ids = frames[position]!.nodes.map((n) => n.id);
  const x = (id: number) => 40 + ((WIDTH - 80) * ids.indexOf(id)) / Math.max(1, ids.length - 1);
  const y = (t: number) => TOP + ((HEIGHT - TOP - 10) * (t - start)) / Math.max(1, now - start + 0.5);
  const endOf = (r: MessageRecord): { t: number; state: 'delivered' | 'dropped' | 'flight' } => {
    if (r.deliveredStep !== undefined && r.deliveredStep <= position) return { t: r.deliveredTime ?? frames[r.deliveredStep]!.time, state: 'delivered' };
    if (r.droppedStep !== undefined && r.droppedStep <= position) return { t: Math.max(frames[r.droppedStep]!.time, r.sentTime + 0.15), state: 'dropped' };
    return { t: Math.min(r.arriveTime ?? now, now + 0.5), state: 'flight' };
  };
  const parts: string[] = [];
  parts.push(
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>`,
  );
  for (const id of ids) {
    parts.push(`<line x1="${x(id)}" y1="${TOP - 6}" x2="${x(id)}" y2="${HEIGHT}" stroke="#c8c8ce" stroke-width="1"/>`);
    parts.push(`<text x="${x(id)}" y="14" text-anchor="middle" font-weight="700" font-size="12">n${id}</text>`);
  }
  parts.push(
    `<line x1="20" x2="${WIDTH - 20}" y1="${y(now)}" y2="${y(now)}" stroke="#2857b8" stroke-dasharray="2 3"/><text x="${WIDTH - 18}" y="${y(now) - 3}" font-size="10" text-anchor="end" fill="#2857b8">t=${now.toFixed(1)}</text>`,
  );
  let shown = 0;
  for (const r of records) {
    if (r.sentStep > position || r.sentTime < start) continue;
    if (filter.hidden.has(r.type)) continue;
    if (filter.node !== 0 && r.from !== filter.node && r.to !== filter.node) continue;
    if (!ids.includes(r.from) || !ids.includes(r.to)) continue;
    const end = endOf(r);
    const x1 = x(r.from);
    const y1 = y(r.sentTime);
    let x2 = x(r.to);
    let y2 = y(end.t);
    const lost = r.dropReason === 'lost';
    if (lost) {
      // Lost at once: a stub toward the target.
      x2 = x1 + (x2 - x1) * 0.3;
      y2 = y1 + 6;
    }
    const colour = end.state === 'dropped' ? '#c0262d' : (COLOURS[r.type] ?? '#555');
    const dash = end.state === 'flight' ? ' stroke-dasharray="4 3"' : '';
    const title = `#${r.id} ${r.label} · sent step ${r.sentStep}${end.state === 'delivered' ? `, delivered step ${r.deliveredStep}` : end.state === 'dropped' ? `, ${r.dropReason}` : ', on its way'}`;
    parts.push(
      `<g data-type="${esc(r.type)}" data-state="${end.state}"><title>${esc(title)}</title><line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${colour}" stroke-width="1.4"${dash}${end.state === 'dropped' ? '' : ' marker-end="url(#arrow)"'}/>`,
    );
    if (end.state === 'dropped') parts.push(`<text x="${x2}" y="${y2 + 4}" text-anchor="middle" fill="#c0262d" font-size="13" font-weight="700">✕</text>`);
    const short = r.type.replace('Response', 'Resp');
    parts.push(`<text class="msg-label" x="${(x1 + x2) / 2}" y="${(y1 + y2) / 2 - 2}" text-anchor="middle" fill="${colour}">${esc(short)} t${r.term}</text></g>`);
    shown++;
  }
  return `<svg viewBox="0 0 ${WIDTH} ${HEIGHT + 4}" data-testid="flow-svg" data-shown="${shown}" role="img" aria-label="message sequence diagram">${parts.join('')}</svg>`;
}

export const MESSAGE_TYPES = Object.keys(COLOURS);
