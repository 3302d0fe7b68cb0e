// Each node's execution history: its applied index and the chained checksums of everything it
// applied, side by side. Nodes at the same index must agree; one that does not is flagged.

import type { Frame } from '../../engine/index.js';

export function renderChecksums(f: Frame): string {
  const rows = f.nodes.map((n) => {
    const div = f.divergent.includes(n.id);
    const peers = f.nodes.filter((o) => o.id !== n.id && o.historyIndex === n.historyIndex && !o.witness);
    const status = div ? 'DIVERGES' : n.historyIndex === 0 ? '—' : peers.length > 0 ? `agrees with ${peers.map((p) => `n${p.id}`).join(', ')}` : 'only node at this index';
    return `<tr class="${div ? 'divergent' : ''}" data-testid="checksum-${n.id}"><td>n${n.id}${n.up ? '' : ' (down)'}</td><td>${n.historyIndex}</td><td class="checksum">${n.termChecksum}</td><td class="checksum">${n.dataChecksum}</td><td style="text-align:left">${status}</td></tr>`;
  });
  return `<table><tr><th>node</th><th>applied</th><th>term checksum</th><th>data checksum</th><th>vs the others</th></tr>${rows.join('')}</table>`;
}
