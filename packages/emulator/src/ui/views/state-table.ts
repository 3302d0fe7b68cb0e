// The global state per event: one row per step (the latest ones up to the current step), each
// node's role, term, vote, commit and applied; a cell that changed since the row before is
// highlighted.

import type { Frame, NodeView } from '../../engine/index.js';
import { esc } from '../dom.js';

const ROLE_ABBR: Record<string, string> = { leader: 'L', follower: 'F', candidate: 'C', 'pre-candidate': 'P', down: '×' };
const COLUMNS: Array<[string, (n: NodeView | undefined) => string]> = [
  ['role', (n) => (n ? (ROLE_ABBR[n.role] ?? n.role) : '')],
  ['term', (n) => (n ? String(n.term) : '')],
  ['vote', (n) => (n?.vote ? String(n.vote) : '')],
  ['commit', (n) => (n ? String(n.commit) : '')],
  ['applied', (n) => (n ? String(n.applied) : '')],
];

export function renderStateTable(frames: readonly Frame[], position: number, rows = 30): string {
  const from = Math.max(0, position - rows + 1);
  const current = frames[position]!;
  const ids = current.nodes.map((n) => n.id);
  const head = `<tr><th rowspan="2">step</th><th rowspan="2">t</th><th rowspan="2">event</th>${ids.map((id) => `<th colspan="${COLUMNS.length}">n${id}</th>`).join('')}</tr>
    <tr>${ids.map(() => COLUMNS.map(([c]) => `<th>${c}</th>`).join('')).join('')}</tr>`;
  const body: string[] = [];
  for (let s = position; s >= from; s--) {
    const f = frames[s]!;
    const prev = s > 0 ? frames[s - 1] : undefined;
    const cells = ids.map((id) => {
      const n = f.nodes.find((v) => v.id === id);
      const p = prev?.nodes.find((v) => v.id === id);
      return COLUMNS.map(([, get]) => {
        const v = get(n);
        return `<td class="${prev && get(p) !== v ? 'changed' : ''}">${esc(v)}</td>`;
      }).join('');
    });
    const event = [f.event, ...f.actions.map((a) => `action: ${a}`)].join('; ');
    body.push(
      `<tr class="${s === position ? 'current' : ''} ${f.violation ? 'violation' : ''}" data-step="${s}"><td>${s}</td><td>${f.time.toFixed(1)}</td><td class="event" title="${esc(event)}">${esc(event)}</td>${cells.join('')}</tr>`,
    );
  }
  return `<div class="table-wrap"><table data-testid="state-table">${head}${body.join('')}</table></div>`;
}
