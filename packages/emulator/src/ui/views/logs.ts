// Each node's log: one box per entry (its term inside, coloured by term), the commit index
// underlined, the applied index marked, the compacted base hatched; under the leader, its
// match/next and replication state per peer.

import type { Frame } from '../../engine/index.js';
import { esc } from '../dom.js';

const TERM_COLOURS = ['#e8f0fe', '#fde7d6', '#e3f5e1', '#f3e5f5', '#fff8d6', '#e0f7fa', '#fbe9e7', '#ede7f6'];

export function renderLogs(f: Frame): string {
  return f.nodes
    .map((n) => {
      const boxes: string[] = [];
      if (n.logFrom > n.firstIndex) boxes.push(`<span class="entry base" title="entries ${n.firstIndex}..${n.logFrom - 1} not drawn">…</span>`);
      if (n.firstIndex > 1 && n.logFrom === n.firstIndex) boxes.push(`<span class="entry base" title="compacted up to ${n.firstIndex - 1} (snapshot)">${n.firstIndex - 1}</span>`);
      n.logTerms.forEach((t, k) => {
        const i = n.logFrom + k;
        const cls = ['entry', i <= n.commit ? 'committed' : '', n.up && i === n.applied ? 'applied' : ''].join(' ');
        boxes.push(`<span class="${cls}" style="background:${TERM_COLOURS[t % TERM_COLOURS.length]}" title="index ${i}, term ${t}">${t}</span>`);
      });
      const progress =
        n.progress.length > 0
          ? `<div class="progress">${n.progress
              .filter((p) => p.id !== n.id)
              .map((p) => `n${p.id}: match ${p.match} next ${p.next} (${esc(p.state)})`)
              .join(' · ')}</div>`
          : '';
      return `<div class="log" data-testid="log-${n.id}"><span class="who">n${n.id}</span><span class="entries">${boxes.join('') || '<small>empty</small>'}</span></div>${progress}`;
    })
    .join('');
}
