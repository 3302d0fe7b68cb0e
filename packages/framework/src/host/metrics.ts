import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TransportStats } from '../transport/transport.js';

/** The host's counters and histograms; the HTTP layer serves `registry` as /metrics. */
export class HostMetrics {
  readonly registry = new Registry();
  readonly proposals = new Counter({ name: 'raftkit_proposals_total', help: 'Proposals accepted by a leader on this host', labelNames: ['group'], registers: [this.registry] });
  readonly proposalsFailed = new Counter({
    name: 'raftkit_proposals_failed_total',
    help: 'Proposals refused or dropped',
    labelNames: ['group', 'code'],
    registers: [this.registry],
  });
  readonly applied = new Counter({ name: 'raftkit_applied_entries_total', help: 'Committed entries applied to state machines', labelNames: ['group'], registers: [this.registry] });
  readonly elections = new Counter({ name: 'raftkit_elections_total', help: 'Elections this host started (became candidate)', labelNames: ['group'], registers: [this.registry] });
  readonly peerMessagesRefused = new Counter({
    name: 'raftkit_peer_messages_refused_total',
    help: 'Peer messages dropped because what they claim does not fit what this node knows (non-member sender, index beyond the log, relayed request, ...)',
    labelNames: ['group'],
    registers: [this.registry],
  });
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

  /** The log store's counters (SqliteLogStore.stats()), read at each scrape. */
  watchLogStore(stats: () => { writes: number; transactions: number }): void {
    this.scrapedGauges(stats, [
      ['writes', 'raftkit_log_writes_total', 'Log writes (one per round) made durable'],
      ['transactions', 'raftkit_log_transactions_total', 'Log transactions (one fsync each) that carried them'],
    ]);
  }

  /** One gauge per field of `stats()`, set from a fresh read at each scrape (counters kept elsewhere). */
  private scrapedGauges<T extends object>(stats: () => T, fields: [keyof T, string, string][]): void {
    for (const [field, name, help] of fields) {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(stats()[field] as number);
        },
      });
    }
  }

  /** Exposes the peer transport's counters (read when /metrics is scraped). */
  watchTransport(stats: () => TransportStats): void {
    const fields: [keyof TransportStats, string, string][] = [
      ['bytesSent', 'raftkit_peer_bytes_sent_total', 'Bytes sent to peers'],
      ['bytesReceived', 'raftkit_peer_bytes_received_total', 'Bytes received from peers'],
      ['framesSent', 'raftkit_peer_frames_sent_total', 'Frames sent to peers'],
      ['messagesDropped', 'raftkit_peer_messages_dropped_total', 'Raft messages dropped by the transport'],
      ['reconnects', 'raftkit_peer_reconnects_total', 'Reconnections to peers'],
      ['inboundRefused', 'raftkit_peer_connections_refused_total', 'Peer connections refused at the handshake'],
      ['misaddressedDropped', 'raftkit_peer_messages_misaddressed_total', 'Peer messages dropped for naming another sender or receiver than their connection'],
      ['snapshotsSent', 'raftkit_snapshots_sent_total', 'Snapshots streamed to peers'],
      ['snapshotsReceived', 'raftkit_snapshots_received_total', 'Snapshots received from peers'],
    ];
    this.scrapedGauges(stats, fields);
  }
}
