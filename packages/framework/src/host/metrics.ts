import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The host's counters and histograms; the HTTP layer serves `registry` as /metrics. */
export class HostMetrics {
  readonly registry = new Registry();
  readonly proposals = new Counter({ name: 'raftkit_proposals_total', help: 'Proposals accepted by a leader on this host', labelNames: ['group'], registers: [this.registry] });
  readonly proposalsFailed = new Counter({ name: 'raftkit_proposals_failed_total', help: 'Proposals refused or dropped', labelNames: ['group', 'code'], registers: [this.registry] });
  readonly applied = new Counter({ name: 'raftkit_applied_entries_total', help: 'Committed entries applied to state machines', labelNames: ['group'], registers: [this.registry] });
  readonly elections = new Counter({ name: 'raftkit_elections_total', help: 'Elections this host started (became candidate)', labelNames: ['group'], registers: [this.registry] });
  readonly leaderChanges = new Counter({ name: 'raftkit_leader_changes_total', help: 'Leader changes seen by this host', labelNames: ['group'], registers: [this.registry] });
  readonly fsyncSeconds = new Histogram({
    name: 'raftkit_log_write_seconds',
    help: 'Duration of one group-commit transaction (including its fsync)',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly roundSeconds = new Histogram({
    name: 'raftkit_round_seconds',
    help: 'Duration of one host round (collect, persist, send, apply, advance)',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly roundEntries = new Histogram({
    name: 'raftkit_round_entries',
    help: 'Entries persisted per round (batching)',
    buckets: [1, 4, 16, 64, 256, 1024, 4096],
    registers: [this.registry],
  });
  readonly messagesSent = new Counter({ name: 'raftkit_messages_sent_total', help: 'Raft messages handed to the transport', registers: [this.registry] });
  readonly groups = new Gauge({ name: 'raftkit_groups', help: 'Groups on this host', registers: [this.registry] });
  readonly quiescedGroups = new Gauge({ name: 'raftkit_quiesced_groups', help: 'Groups currently quiesced', registers: [this.registry] });
}
