// The cluster: one card per node with its role, term, vote, leader, commit/applied, election
// timer, clock rate and configuration.

import type { Frame } from '../../engine/index.js';
import { esc } from '../dom.js';

export function renderCluster(f: Frame): string {
  const cards = f.nodes.map((n) => {
    const role = n.decommissioned ? 'decommissioned' : n.role;
    const pct = n.up && n.electionTimeout > 0 ? Math.min(100, Math.round((100 * n.electionElapsed) / n.electionTimeout)) : 0;
    return `<div class="node ${esc(n.up ? n.role : 'down')}" data-testid="node-${n.id}" data-role="${esc(role)}" data-term="${n.term}">
      <div><span class="name">n${n.id}</span><span class="role ${esc(n.up ? n.role : 'down')}">${esc(role)}</span>${n.witness ? ' <small>witness</small>' : ''}</div>
      <div>term <b>${n.term}</b> · vote ${n.vote ? `n${n.vote}` : '–'} · lead ${n.lead ? `n${n.lead}` : '–'}</div>
      <div>commit <b>${n.commit}</b> · applied <b>${n.applied}</b> · log [${n.firstIndex}, ${n.lastIndex}]</div>
      ${
        n.up && n.electionTimeout > 0
          ? `<div title="election timer: ${n.electionElapsed} of ${n.electionTimeout} ticks">timer ${n.electionElapsed}/${n.electionTimeout}${n.clockRate !== 1 ? ` · <b>clock ×${n.clockRate}</b>` : ''}</div><div class="timer"><div style="width:${pct}%"></div></div>`
          : n.up
            ? ''
            : '<div>down: only what it persisted survives</div>'
      }
      <div class="conf">${esc(n.conf)}</div>
    </div>`;
  });
  return `<div class="nodes">${cards.join('')}</div>`;
}
