// Peer messages the core drops are counted per group and logged once per group, sender and kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeMessage } from '../../src/core/raft.js';
import { MessageType } from '../../src/core/types.js';
import { DroppedMessages } from '../../src/host/dropped-messages.js';
import { HostMetrics } from '../../src/host/metrics.js';
import type { Logger } from '../../src/common/logger.js';

test('dropped peer messages are counted each time and logged once per group, sender and kind', async () => {
  const lines: { obj: object; msg: string }[] = [];
  const rec = (obj: object, msg: string) => lines.push({ obj, msg });
  const logger: Logger = { debug: rec, info: rec, warn: rec, error: rec, child: () => logger };
  const metrics = new HostMetrics();
  const dropped = new DroppedMessages(metrics.peerMessagesRefused, logger);
  const m = makeMessage({ type: MessageType.ReadIndex, from: 99, to: 3 });
  for (let i = 0; i < 50; i++) dropped.record('kv', m, 'node 99 is not a member of this group');
  dropped.record('kv', makeMessage({ type: MessageType.AppendResponse, from: 1, to: 3 }), "AppendResponse: node 1 claims index 1099511627776, beyond this leader's last index 12");
  dropped.record('kv', makeMessage({ type: MessageType.AppendResponse, from: 1, to: 3 }), "AppendResponse: node 1 claims index 1099511627777, beyond this leader's last index 13");
  dropped.record('other', m, 'node 99 is not a member of this group');
  assert.equal(lines.length, 3);
  assert.match(await metrics.registry.metrics(), /raftkit_peer_messages_refused_total\{group="kv"\} 52/);
});
