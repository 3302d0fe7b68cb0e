// The static parts of the control panels (session bar, transport, breakpoints, actions): built
// once, their values read when a button is pressed.

import { MAX_SESSION_NODE, SESSION_DRIVERS } from '@raftkit/framework/sim';
import { SCENARIOS } from '../engine/index.js';
import { esc, options } from './dom.js';
import { MESSAGE_TYPES } from './views/sequence.js';

export const SPEEDS = [2, 10, 50, 250, 1000];

export function sessionBar(seed: number): string {
  return `<label>seed <input type="number" data-field="seed" value="${seed}" min="0" data-testid="seed"></label>
    <select data-field="nodes">${options([3, 5], 3, (v) => `${v} nodes`)}</select>
    <select data-field="driver" title="who acts besides you">${options(SESSION_DRIVERS, 'none', (v) => `driver: ${v}`)}</select>
    <select data-field="mutation" title="a test-only core bug">${options(['', 'commit-previous-term', 'vote-ignores-log'], '', (v) => (v === '' ? 'correct core' : `bug: ${v}`))}</select>
    <button data-cmd="new">New session</button>
    <select data-field="scenario" data-testid="scenario">${SCENARIOS.map((s) => `<option value="${esc(s.id)}" title="${esc(s.description)}">${esc(s.title)}</option>`).join('')}</select>
    <button data-cmd="scenario" data-testid="load-scenario">Load scenario</button>
    <button data-cmd="export" data-testid="export">Export JSON</button>
    <label class="file"><button data-cmd="import">Import JSON</button><input type="file" accept=".json,application/json" data-field="import-file" hidden></label>
    <button data-cmd="link" data-testid="link">Copy link</button>`;
}

export function transport(): string {
  return `<button data-cmd="back" data-testid="step-back" title="one event back (re-runs the session from its seed)">◀ Step back</button>
    <button data-cmd="step" class="primary" data-testid="step" title="handle the next event">Step ▶</button>
    <button data-cmd="run" data-testid="run">Run</button>
    <button data-cmd="pause" data-testid="pause">Pause</button>
    <select data-field="speed" title="steps per second">${options(SPEEDS, 50, (v) => `${v} steps/s`)}</select>
    <button data-cmd="run-to-break" data-testid="run-to-break" title="run at full speed to the next breakpoint">Run to breakpoint »</button>
    <input type="range" min="0" max="0" value="0" data-field="slider" data-testid="slider" title="time travel: drag to any step">
    <span class="pos" data-testid="position"></span>
    <label>go to step <input type="number" min="0" data-field="goto" data-testid="goto"></label><button data-cmd="goto" data-testid="goto-btn">Go</button>
    <div class="event" data-testid="event"></div>`;
}

const nodeIds = Array.from({ length: MAX_SESSION_NODE }, (_, i) => i + 1);

export function breakpointsPanel(): string {
  return `<div class="row"><select data-field="bp-kind" data-testid="bp-kind">
      <option value="leader-elected">a leader is elected</option>
      <option value="term-above">term above N</option>
      <option value="commit-reaches">commit reaches N</option>
      <option value="message-sent">a message type is sent</option>
      <option value="invariant">an invariant is broken</option>
    </select>
    <label>N <input type="number" min="0" value="2" data-field="bp-n" data-testid="bp-n"></label>
    <select data-field="bp-node">${options([0, ...nodeIds], 0, (v) => (v === 0 ? 'any node' : `n${v}`))}</select>
    <select data-field="bp-type">${options(MESSAGE_TYPES, 'Vote')}</select>
    <button data-cmd="bp-add" data-testid="bp-add">Add breakpoint</button></div>
    <div data-list="breakpoints"></div>`;
}

export function actionsPanel(): string {
  const node = (name: string, testid = name) => `<select data-field="${name}" data-testid="${testid}">${options(nodeIds, 1, (v) => `n${v}`)}</select>`;
  return `<div class="row"><span class="label">client at</span>${node('act-node')}
      <button data-cmd="propose" data-testid="propose">Propose</button>
      <button data-cmd="read">Read (ReadIndex)</button>
      <button data-cmd="lease-read">Read (lease)</button></div>
    <div class="row"><span class="label">that node</span>
      <button data-cmd="crash" data-testid="crash">Crash</button>
      <button data-cmd="restart" data-testid="restart">Restart</button>
      <button data-cmd="campaign">Campaign</button>
      <button data-cmd="compact" title="snapshot its applied state and compact its log">Compact</button>
      <label>clock × <input type="number" step="0.1" min="0.1" max="10" value="1.5" data-field="clock"></label><button data-cmd="clock">Skew clock</button></div>
    <div class="row"><span class="label">network</span>
      <button data-cmd="isolate-leader" data-testid="isolate-leader">Partition the leader off</button>
      <input class="ids" data-field="groups" placeholder="1,2|3"><button data-cmd="partition">Partition</button>
      <input class="ids" data-field="ow-from" placeholder="from 1"><input class="ids" data-field="ow-to" placeholder="to 2,3"><button data-cmd="one-way">Cut one way</button>
      <button data-cmd="heal" data-testid="heal">Heal all</button></div>
    <div class="row"><span class="label">membership</span>${node('member', 'member')}
      <button data-cmd="add-learner">Add learner</button>
      <button data-cmd="promote">Promote</button>
      <button data-cmd="remove">Remove</button>
      <input class="ids" data-field="joint-add" placeholder="add 4,5"><input class="ids" data-field="joint-remove" placeholder="remove 1"><button data-cmd="joint">Joint change</button>
      <button data-cmd="leave-joint">Leave joint</button></div>
    <div class="row"><span class="label">leadership</span>transfer to ${node('transfer-to')}<button data-cmd="transfer">Transfer</button></div>`;
}
