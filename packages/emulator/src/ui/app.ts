// The page's controller: one Emulator, the controls that drive it and the views that show its
// current frame. Every control goes through act()/goto()/stepForward(); a refused request shows
// its error on the notice line and changes nothing.

import { MAX_SESSION_NODE, TICK, type Session, type SessionAction } from '@raftkit/framework/sim';
import {
  Emulator,
  EmulatorError,
  URL_KEY,
  decodeSessionParam,
  describeBreakpoint,
  encodeSessionParam,
  newSession,
  parseBreakpoint,
  scenario,
  sessionFromJson,
  type Breakpoint,
} from '../engine/index.js';
import { byId, esc, field, onCommand, parseIds } from './dom.js';
import { SPEEDS, actionsPanel, breakpointsPanel, sessionBar, transport } from './panels.js';
import { renderChecksums } from './views/checksums.js';
import { renderCluster } from './views/cluster.js';
import { renderLogs } from './views/logs.js';
import { MESSAGE_TYPES, renderSequence, type FlowFilter } from './views/sequence.js';
import { renderStateTable } from './views/state-table.js';

/** Steps per slice of "run to breakpoint" between two repaints. */
const RUN_SLICE = 2000;
/** "Run to breakpoint" gives up after this many steps without a hit. */
const RUN_LIMIT = 20_000;

export class App {
  private em: Emulator;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly filter: FlowFilter = { hidden: new Set(), node: 0, window: 8 };

  constructor(session: Session | undefined) {
    this.em = new Emulator(session ?? newSession(1, 3));
    byId('session-bar').innerHTML = sessionBar(session?.seed ?? 1);
    byId('transport').innerHTML = transport();
    byId('breakpoints').innerHTML = breakpointsPanel();
    byId('actions').innerHTML = actionsPanel();
    byId('flow-filter').innerHTML = this.filterControls();
    this.wire();
    this.render();
  }

  // ---- commands ------------------------------------------------------------------------

  private wire(): void {
    const bar = byId('session-bar');
    onCommand(bar, {
      new: () =>
        this.guard(() => {
          const seed = Number(field(bar, 'seed'));
          if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new EmulatorError('bad_session', 'a seed is an integer from 0 to 4294967295');
          const s = newSession(seed, Number(field(bar, 'nodes')) === 5 ? 5 : 3, field(bar, 'driver') as Session['driver']);
          const mutation = field(bar, 'mutation');
          if (mutation) s.mutation = mutation as Session['mutation'];
          this.load(s, 0, `new session, seed ${seed}`);
        }),
      scenario: () =>
        this.guard(() => {
          const def = scenario(field(bar, 'scenario'));
          this.load(def.build(), 0, `${def.title}: ${def.description}`);
        }),
      export: () => this.guard(() => this.exportFile()),
      import: () => bar.querySelector<HTMLInputElement>('[data-field="import-file"]')!.click(),
      link: () => this.guard(() => this.copyLink()),
    });
    bar.querySelector<HTMLInputElement>('[data-field="import-file"]')!.addEventListener('change', (ev) => {
      const input = ev.target as HTMLInputElement;
      const file = input.files?.[0];
      input.value = '';
      if (file) void file.text().then((text) => this.guard(() => this.load(sessionFromJson(text), undefined, `imported ${file.name}`)));
    });

    const tr = byId('transport');
    onCommand(tr, {
      step: () => this.guard(() => this.stepOnce()),
      back: () => this.guard(() => this.em.stepBack()),
      run: () => this.run(false),
      pause: () => this.pause('paused'),
      'run-to-break': () => this.run(true),
      goto: () => this.guard(() => this.em.goto(Number(field(tr, 'goto')))),
    });
    tr.querySelector<HTMLInputElement>('[data-field="slider"]')!.addEventListener('input', (ev) => {
      this.pause();
      this.guard(() => this.em.goto(Number((ev.target as HTMLInputElement).value)));
    });

    const bp = byId('breakpoints');
    onCommand(bp, {
      'bp-add': () =>
        this.guard(() => {
          const kind = field(bp, 'bp-kind');
          const n = Number(field(bp, 'bp-n'));
          const node = Number(field(bp, 'bp-node'));
          const spec: Record<string, unknown> = { kind };
          if (kind === 'term-above') spec.term = n;
          if (kind === 'commit-reaches') spec.index = n;
          if ((kind === 'term-above' || kind === 'commit-reaches') && node > 0) spec.node = node;
          if (kind === 'message-sent') spec.type = field(bp, 'bp-type');
          const b = parseBreakpoint(spec, MESSAGE_TYPES);
          this.em.breakpoints.push(b);
          this.notice(`breakpoint: ${describeBreakpoint(b)}`);
        }),
      'bp-remove': (el) => {
        this.em.breakpoints.splice(Number(el.dataset.index), 1);
        this.render();
      },
    });

    const ac = byId('actions');
    const node = () => Number(field(ac, 'act-node'));
    const member = () => Number(field(ac, 'member'));
    const leader = (): number => {
      const l = this.em.leader;
      if (l === undefined) throw new EmulatorError('bad_action', 'no node leads now: membership changes and transfers go to the leader');
      return l;
    };
    const act = (make: () => SessionAction) => () => this.guard(() => this.act(make()));
    onCommand(ac, {
      propose: act(() => ({ do: 'propose', node: node() })),
      read: act(() => ({ do: 'read', node: node() })),
      'lease-read': act(() => ({ do: 'read', node: node(), lease: true })),
      crash: act(() => ({ do: 'crash', node: node() })),
      restart: act(() => ({ do: 'restart', node: node() })),
      campaign: act(() => ({ do: 'campaign', node: node() })),
      compact: act(() => ({ do: 'compact', node: node() })),
      clock: act(() => ({ do: 'clock', node: node(), rate: Number(field(ac, 'clock')) })),
      'isolate-leader': act(() => {
        const l = leader();
        return { do: 'partition', groups: [[l], this.em.frame.nodes.filter((n) => n.id !== l && !n.decommissioned).map((n) => n.id)] };
      }),
      partition: act(() => ({
        do: 'partition',
        groups: field(ac, 'groups')
          .split('|')
          .map((g) => parseIds(g.trim(), 'partition groups')),
      })),
      'one-way': act(() => ({ do: 'one-way', from: parseIds(field(ac, 'ow-from'), 'from'), to: parseIds(field(ac, 'ow-to'), 'to') })),
      heal: act(() => ({ do: 'heal' })),
      'add-learner': act(() => ({ do: 'add-learner', leader: leader(), node: member() })),
      promote: act(() => ({ do: 'promote', leader: leader(), node: member() })),
      remove: act(() => ({ do: 'remove', leader: leader(), node: member() })),
      joint: act(() => ({ do: 'joint', leader: leader(), add: parseIds(field(ac, 'joint-add'), 'add'), remove: parseIds(field(ac, 'joint-remove'), 'remove') })),
      'leave-joint': act(() => ({ do: 'leave-joint', leader: leader() })),
      transfer: act(() => ({ do: 'transfer', leader: leader(), to: Number(field(ac, 'transfer-to')) })),
    });

    onCommand(byId('inflight'), {
      drop: (el) => this.guard(() => this.act({ do: 'drop', message: Number(el.dataset.id) })),
      delay: (el) => this.guard(() => this.act({ do: 'delay', message: Number(el.dataset.id), by: 30 })),
      duplicate: (el) => this.guard(() => this.act({ do: 'duplicate', message: Number(el.dataset.id) })),
    });

    const ff = byId('flow-filter');
    ff.addEventListener('change', () => {
      this.filter.hidden = new Set([...ff.querySelectorAll<HTMLInputElement>('input[data-type]')].filter((i) => !i.checked).map((i) => i.dataset.type!));
      this.filter.node = Number(field(ff, 'flow-node'));
      this.filter.window = Number(field(ff, 'flow-window'));
      this.render();
    });

    onCommand(byId('alarm'), { 'goto-violation': (el) => this.guard(() => this.em.goto(Number(el.dataset.step))) });
  }

  private act(a: SessionAction): void {
    const { dropped } = this.em.act(a);
    this.notice(`${a.do} taken at step ${this.em.position}${dropped > 0 ? `: forked the timeline, ${dropped} later action(s) dropped` : ''}`);
  }

  private stepOnce(): void {
    this.em.stepForward();
    const hit = this.em.checkBreakpoints();
    if (hit) this.notice(`breakpoint: ${hit}`);
  }

  private run(toBreakpoint: boolean): void {
    this.pause();
    let total = 0;
    const slice = () => {
      const speed = Number(field(byId('transport'), 'speed')) || SPEEDS[2]!;
      const n = toBreakpoint ? RUN_SLICE : Math.max(1, Math.round(speed / 20));
      let r;
      try {
        r = this.em.runUntilBreakpoint(n);
      } catch (e) {
        this.pause();
        this.guard(() => {
          throw e;
        });
        return;
      }
      total += r.steps;
      this.render();
      if (r.hit) return this.pause(`stopped: ${r.hit} (step ${this.em.position})`);
      if (this.em.halted || r.steps === 0) return this.pause('stopped');
      if (toBreakpoint && total >= RUN_LIMIT) return this.pause(`no breakpoint hit in ${total} steps`);
      this.timer = setTimeout(slice, toBreakpoint ? 0 : 50);
    };
    this.notice(toBreakpoint ? 'running to the next breakpoint…' : 'running');
    this.timer = setTimeout(slice, 0);
  }

  private pause(message?: string): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (message) this.notice(message);
  }

  private load(s: Session, at: number | undefined, message: string): void {
    this.pause();
    const breakpoints = this.em.breakpoints;
    this.em = new Emulator(s, at === undefined ? {} : { at });
    this.em.breakpoints = breakpoints;
    this.notice(message);
  }

  private exportFile(): void {
    const s = this.em.exportSession();
    const blob = new Blob([JSON.stringify(s, null, 2) + '\n'], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `raftkit-session-seed${s.seed}-step${s.steps}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    this.notice(`exported ${a.download}: replay it with npm run sim -- --session ${a.download} (trace ${s.expect!.traceHash})`);
  }

  private copyLink(): void {
    const url = `${location.origin}${location.pathname}#${URL_KEY}=${encodeSessionParam(this.em.exportSession())}`;
    history.replaceState(null, '', url);
    void navigator.clipboard?.writeText(url).catch(() => undefined);
    this.notice('the link in the address bar holds this session (seed and actions up to this step)');
  }

  /** Runs a command; an EmulatorError (or a bad input) becomes the notice and changes nothing. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      this.notice(e.message, true);
      if (!(e instanceof EmulatorError)) console.error(e);
    }
    this.render();
  }

  private notice(message: string, error = false): void {
    const el = byId('notice');
    el.textContent = message;
    el.className = error ? 'error' : '';
  }

  // ---- views ---------------------------------------------------------------------------

  private filterControls(): string {
    const types = MESSAGE_TYPES.map((t) => `<label><input type="checkbox" data-type="${esc(t)}" checked> ${esc(t)}</label>`).join('');
    const nodes = Array.from({ length: MAX_SESSION_NODE }, (_, i) => `<option value="${i + 1}">n${i + 1}</option>`).join('');
    return `${types}<label>node <select data-field="flow-node" data-testid="flow-node"><option value="0">all</option>${nodes}</select></label>
      <label>window <select data-field="flow-window"><option value="4">4 ticks</option><option value="8" selected>8 ticks</option><option value="20">20 ticks</option><option value="50">50 ticks</option></select></label>`;
  }

  render(): void {
    const em = this.em;
    const f = em.frame;
    const tr = byId('transport');
    const slider = tr.querySelector<HTMLInputElement>('[data-field="slider"]')!;
    slider.max = String(Math.max(em.horizon, em.position));
    slider.value = String(em.position);
    const s = em.session;
    tr.querySelector('[data-testid="position"]')!.textContent =
      `step ${em.position} of ${Math.max(em.horizon, em.position)} · t=${f.time.toFixed(1)} ticks · seed ${s.seed}${s.mutation ? ` · bug ${s.mutation}` : ''}`;
    tr.querySelector('[data-testid="event"]')!.textContent = [f.event, ...f.actions.map((a) => `action: ${a}`)].join(' · ');

    byId('cluster').innerHTML = renderCluster(f);
    byId('logs').innerHTML = renderLogs(f);
    byId('checksums').innerHTML = renderChecksums(f);
    byId('state-table').innerHTML = renderStateTable(em.frames, em.position);
    byId('flow').innerHTML = renderSequence(em.frames, em.position, em.messagesBetween(0, em.position), this.filter);
    byId('trace').textContent = f.lines.join('\n');
    byId('breakpoints').querySelector('[data-list="breakpoints"]')!.innerHTML = em.breakpoints
      .map((b: Breakpoint, i) => `<div class="bp" data-testid="bp-item">● ${esc(describeBreakpoint(b))} <button data-cmd="bp-remove" data-index="${i}">×</button></div>`)
      .join('');
    byId('inflight').innerHTML =
      em
        .inFlight()
        .map(
          (m) =>
            `<div class="m" data-testid="inflight-msg"><button data-cmd="drop" data-id="${m.id}">drop</button><button data-cmd="delay" data-id="${m.id}">delay</button><button data-cmd="duplicate" data-id="${m.id}">dup</button> #${m.id} ${esc(m.label)} <small>→ t=${(m.at / TICK).toFixed(1)}</small></div>`,
        )
        .join('') || '<small>none</small>';

    const alarm = byId('alarm');
    const broken = em.frames.find((fr) => fr.violation);
    alarm.hidden = !broken;
    if (broken) {
      alarm.innerHTML = `⚠ invariant broken at step ${broken.step} (${esc(broken.event)}): ${esc(broken.violation!)} <button data-cmd="goto-violation" data-step="${broken.step}">show step ${broken.step}</button>`;
      alarm.dataset.testid = 'alarm';
    }
  }
}

/** The session in the page's URL (#session=...), if any. */
export function sessionFromLocation(): Session | undefined {
  const m = new RegExp(`[#&]${URL_KEY}=([A-Za-z0-9_-]+)`).exec(location.hash);
  if (!m) return undefined;
  return decodeSessionParam(m[1]!);
}
