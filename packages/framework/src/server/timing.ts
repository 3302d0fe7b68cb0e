import type { NodeTiming } from '../api/node-service.js';
import type { NodeHostOptions } from '../host/node-host.js';
import { DEFAULT_TIMING, MIN_HEARTBEATS_PER_ELECTION, type RaftTiming } from './flags.js';

/** What the host counts time in: the tick timer's period and the heartbeat and election timeout in ticks. */
export type HostTicks = Required<Pick<NodeHostOptions, 'tickMs' | 'heartbeatTick' | 'electionTick'>>;

/**
 * The longest tick. The core measures election timeouts, their jitter and leader leases in whole
 * ticks (a lease is two ticks shorter than the election timeout), so a coarser tick would make
 * every one of them coarser.
 */
const MAX_TICK_MS = 100;

/**
 * Maps a timing in milliseconds onto ticks: the heartbeat becomes a whole number of ticks of at
 * most 100 ms (exact, or off by at most half a millisecond per tick), and the election timeout
 * the nearest whole number of those ticks, but never fewer than the heartbeats the flags' rule
 * asks for: rounding must not undo it.
 */
export function ticksOf(t: RaftTiming): HostTicks {
  const heartbeatTick = Math.ceil(t.heartbeatMs / MAX_TICK_MS);
  const tickMs = Math.round(t.heartbeatMs / heartbeatTick);
  const electionTick = Math.max(Math.round(t.electionMs / tickMs), MIN_HEARTBEATS_PER_ELECTION * heartbeatTick);
  return { tickMs, heartbeatTick, electionTick };
}

/** The host's ticks: from the timing flags when given (they win), else the host options, else the server defaults. */
export function hostTicks(timing: RaftTiming | undefined, host: Partial<HostTicks> = {}): HostTicks {
  if (timing) return ticksOf(timing);
  const d = ticksOf(DEFAULT_TIMING);
  return { tickMs: host.tickMs ?? d.tickMs, heartbeatTick: host.heartbeatTick ?? d.heartbeatTick, electionTick: host.electionTick ?? d.electionTick };
}

/** The timing the host really runs with, in milliseconds (what `/v1/status` reports). */
export function nodeTimingOf(ticks: HostTicks): NodeTiming {
  return { tickMs: ticks.tickMs, heartbeatMs: ticks.tickMs * ticks.heartbeatTick, electionMs: ticks.tickMs * ticks.electionTick };
}
