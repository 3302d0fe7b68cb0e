// Live mode: the page served by a running node at /ui, attached read-only to its cluster. It
// polls GET /v1/debug/cluster (every node's /v1/status, gathered by this node) and
// GET /v1/debug/messages (this node's tap), and draws them with the emulator's own views: the
// cluster, each node's history checksums side by side, the state per poll with changed cells
// highlighted, and the messages this node sent and received as a sequence diagram.

import type { Frame, MessageRecord, NodeView } from '../engine/index.js';
import { byId, esc, options } from './dom.js';
import { renderChecksums } from './views/checksums.js';
import { renderCluster } from './views/cluster.js';
import { MESSAGE_TYPES, renderSequence, type FlowFilter } from './views/sequence.js';
import { renderStateTable } from './views/state-table.js';

interface Member {
  id: number;
  role: string;
}
interface GroupInfo {
  group: string;
  role: string;
  term: number;
  leader: number;
  commit: number;
  applied: number;
  firstIndex: number;
  lastIndex: number;
  members: Member[];
  jointOutgoing?: number[];
  history?: { from: number; index: number; termChecksum: string; dataChecksum: string };
}
interface ClusterAnswer {
  self: number;
  nodes: Array<{ id: number; address: string; status?: { groups: GroupInfo[] }; error?: string }>;
}
interface TapAnswer {
  next: number;
  missed: boolean;
  messages: Array<{
    seq: number;
    at: number;
    dir: 'in' | 'out';
    group: string;
    from: number;
    to: number;
    type: string;
    term: number;
    index: number;
    commit: number;
    entries: number;
    reject: boolean;
  }>;
}

/** One "tick" of the live view's time axis, in ms of wall-clock time. */
const TICK_MS = 100;
const POLL_MS = 500;
const FRAMES_KEPT = 300;
const RECORDS_KEPT = 5000;

export class LiveApp {
  private readonly t0 = Date.now();
  private frames: Frame[] = [];
  private records: MessageRecord[] = [];
  private group = '';
  private groups: string[] = [];
  private after = 0;
  private tapOn = true;
  private readonly filter: FlowFilter = { hidden: new Set(['Heartbeat', 'HeartbeatResponse']), node: 0, window: 50 };
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    for (const id of ['transport', 'breakpoints', 'actions', 'inflight', 'trace']) byId(id).closest('section')?.setAttribute('hidden', '');
    byId('logs').closest('section')?.setAttribute('hidden', '');
    document.title = 'raftkit live';
    document.querySelector('.sub')!.textContent = 'live and read-only: this cluster as its nodes report it';
    byId('session-bar').innerHTML = `<label>group <select data-field="group" data-testid="live-group"></select></label><span data-testid="live-status"></span>`;
    byId('session-bar')
      .querySelector('select')!
      .addEventListener('change', (ev) => {
        this.group = (ev.target as HTMLSelectElement).value;
        this.frames = [];
        this.records = [];
        this.after = 0;
        void this.poll();
      });
    byId('flow-filter').innerHTML =
      `${MESSAGE_TYPES.map((t) => `<label><input type="checkbox" data-type="${esc(t)}"${this.filter.hidden.has(t) ? '' : ' checked'}> ${esc(t)}</label>`).join('')}
      <label>window <select data-field="flow-window">${options([20, 50, 100, 300], 50, (v) => `${Number(v) / 10} s`)}</select></label>`;
    byId('flow-filter').addEventListener('change', () => {
      const ff = byId('flow-filter');
      this.filter.hidden = new Set([...ff.querySelectorAll<HTMLInputElement>('input[data-type]')].filter((i) => !i.checked).map((i) => i.dataset.type!));
      this.filter.window = Number(ff.querySelector<HTMLSelectElement>('[data-field="flow-window"]')!.value);
      this.render();
    });
    void this.poll();
    this.timer = setInterval(() => void this.poll(), POLL_MS);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  private now(): number {
    return (Date.now() - this.t0) / TICK_MS;
  }

  private async getJson<T>(path: string): Promise<{ status: number; body: T }> {
    const r = await fetch(path, { credentials: 'same-origin', cache: 'no-store' });
    return { status: r.status, body: (await r.json()) as T };
  }

  private async poll(): Promise<void> {
    try {
      let cluster: ClusterAnswer;
      const c = await this.getJson<ClusterAnswer>('/v1/debug/cluster');
      if (c.status === 404) {
        // No tap: this node's own status only.
        this.tapOn = false;
        const s = await this.getJson<{ id: number; address: string; groups: GroupInfo[] }>('/v1/status');
        cluster = { self: s.body.id, nodes: [{ id: s.body.id, address: s.body.address, status: { groups: s.body.groups } }] };
      } else {
        cluster = c.body;
      }
      this.updateGroups(cluster);
      this.frames.push(this.frameOf(cluster));
      if (this.frames.length > FRAMES_KEPT) this.frames.splice(0, this.frames.length - FRAMES_KEPT);
      if (this.tapOn && this.group) await this.pollTap();
      this.status(
        `${this.tapOn ? 'tap on' : 'no debug tap (start nodes with --debug-tap for the message flow and the other nodes)'} · node ${cluster.self} · polled ${new Date().toLocaleTimeString()}`,
      );
    } catch (e) {
      this.status(`cannot reach the node: ${(e as Error).message}`, true);
    }
    this.render();
  }

  private updateGroups(c: ClusterAnswer): void {
    const names = new Set<string>();
    for (const n of c.nodes) for (const g of n.status?.groups ?? []) names.add(g.group);
    const list = [...names].sort();
    if (list.join() !== this.groups.join()) {
      this.groups = list;
      if (!list.includes(this.group)) this.group = list[0] ?? '';
      byId('session-bar').querySelector('select')!.innerHTML = options(list, this.group);
    }
  }

  private frameOf(c: ClusterAnswer): Frame {
    const nodes: NodeView[] = c.nodes.map((n) => {
      const g = n.status?.groups.find((x) => x.group === this.group);
      const h = g?.history;
      const voters = g?.members.filter((m) => m.role !== 'learner').map((m) => m.id) ?? [];
      const learners = g?.members.filter((m) => m.role === 'learner').map((m) => m.id) ?? [];
      return {
        id: n.id,
        up: g !== undefined,
        decommissioned: false,
        witness: false,
        role: g ? g.role : n.error ? 'down' : 'not a member',
        term: g?.term ?? 0,
        vote: 0,
        lead: g?.leader ?? 0,
        commit: g?.commit ?? 0,
        applied: g?.applied ?? 0,
        firstIndex: g?.firstIndex ?? 0,
        lastIndex: g?.lastIndex ?? 0,
        logFrom: (g?.lastIndex ?? 0) + 1,
        logTerms: [],
        electionElapsed: 0,
        electionTimeout: 0,
        progress: [],
        clockRate: 1,
        conf: g
          ? `voters ${voters.join(',')}${g.jointOutgoing ? ` | outgoing ${g.jointOutgoing.join(',')}` : ''}${learners.length ? `; learners ${learners.join(',')}` : ''}`
          : (n.error ?? ''),
        historyIndex: h?.index ?? 0,
        termChecksum: h?.termChecksum ?? '',
        dataChecksum: h?.dataChecksum ?? '',
      };
    });
    // Replicas whose chains start at the same index and reached the same index must agree.
    const divergent: number[] = [];
    for (const a of c.nodes) {
      const ha = a.status?.groups.find((x) => x.group === this.group)?.history;
      if (!ha) continue;
      for (const b of c.nodes) {
        const hb = b.status?.groups.find((x) => x.group === this.group)?.history;
        if (b.id !== a.id && hb && hb.from === ha.from && hb.index === ha.index && hb.dataChecksum !== ha.dataChecksum) divergent.push(a.id);
      }
    }
    const prev = this.frames[this.frames.length - 1];
    const changed = prev ? nodes.filter((n, i) => JSON.stringify(n) !== JSON.stringify(prev.nodes[i])).map((n) => `n${n.id}`) : [];
    return {
      step: (prev?.step ?? 0) + 1,
      time: this.now(),
      event: prev ? (changed.length ? `poll: ${changed.join(', ')} changed` : 'poll: no change') : 'first poll',
      actions: [],
      nodes,
      lines: [],
      divergent: [...new Set(divergent)],
    };
  }

  private async pollTap(): Promise<void> {
    const step = this.frames[this.frames.length - 1]!.step;
    const t = await this.getJson<TapAnswer>(`/v1/debug/messages?after=${this.after}&group=${encodeURIComponent(this.group)}`);
    if (t.status === 404) {
      this.tapOn = false;
      return;
    }
    this.after = t.body.next;
    for (const m of t.body.messages) {
      const time = (m.at - this.t0) / TICK_MS;
      // This node saw one end of each message: its send, or its arrival; the other end is drawn just beside it.
      const sentTime = m.dir === 'out' ? time : time - 0.5;
      this.records.push({
        id: m.seq,
        type: m.type,
        from: m.from,
        to: m.to,
        term: m.term,
        label: `${m.type} ${m.from}->${m.to} term=${m.term} index=${m.index} commit=${m.commit}${m.entries ? ` entries=${m.entries}` : ''}${m.reject ? ' reject' : ''}`,
        sentStep: step,
        sentTime,
        deliveredStep: step,
        deliveredTime: m.dir === 'out' ? time + 0.5 : time,
      });
    }
    if (this.records.length > RECORDS_KEPT) this.records.splice(0, this.records.length - RECORDS_KEPT);
  }

  private status(text: string, error = false): void {
    const el = byId('session-bar').querySelector<HTMLElement>('[data-testid="live-status"]')!;
    el.textContent = text;
    el.style.color = error ? '#c0262d' : '';
  }

  private render(): void {
    if (this.frames.length === 0) return;
    const pos = this.frames.length - 1;
    const f = this.frames[pos]!;
    byId('cluster').innerHTML = renderCluster(f);
    byId('checksums').innerHTML = renderChecksums(f);
    // The views index frames by step: give them the kept window re-numbered from 0.
    const frames = this.frames.map((fr, i) => ({ ...fr, step: i }));
    byId('state-table').innerHTML = renderStateTable(frames, pos);
    const first = this.frames[0]!.step;
    const records = this.records.map((r) => ({ ...r, sentStep: Math.max(0, r.sentStep - first), deliveredStep: Math.max(0, (r.deliveredStep ?? r.sentStep) - first) }));
    byId('flow').innerHTML = this.tapOn ? renderSequence(frames, pos, records, { ...this.filter, node: 0 }) : '<small>no debug tap on this node</small>';
  }
}
