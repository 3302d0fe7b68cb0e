// Fuzz: peer frames into a real node's host. A peer that proved its id sends frames of random
// bytes and of messages with forged fields; whatever it sends, the node keeps serving, and
// what it acknowledged stays. A bad frame closes that one connection (1008/1003), nothing else.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { encodeMessages } from '../../src/transport/codec.js';
import { HEADER_NODE_ID, HEADER_PROTOCOL, HEADER_TARGET_ID, WIRE_PROTOCOL } from '../../src/transport/handshake.js';
import { peerProofHeaders } from '../../src/transport/peer-credentials.js';
import { request } from '../api/helpers.js';
import { startSingleNode, type SingleNode } from '../support/single-node.js';
import { fuzz } from './fuzz-config.js';
import { message } from './fuzz-messages.js';

const TOKEN = 'host-fuzz';
let node: SingleNode;
let written = 0;

before(async () => {
  node = await startSingleNode({ token: TOKEN });
});
after(async () => {
  await node.stop();
});

function connect(claimed: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${node.port}/raft`, {
    headers: { ...peerProofHeaders(TOKEN, claimed, 1), [HEADER_NODE_ID]: String(claimed), [HEADER_TARGET_ID]: '1', [HEADER_PROTOCOL]: WIRE_PROTOCOL },
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const frame = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.array(message, { minLength: 1, maxLength: 5 }).map((ms) => {
    try {
      return encodeMessages(ms.map((m, i) => ({ group: i % 2 ? 'kv' : 'nope', message: { ...m, to: 1 } })));
    } catch {
      return new Uint8Array([1, 1, 0]);
    }
  }),
);

test('fuzz: frames from a proven peer never stop the node from serving, nor lose acknowledged data', async () => {
  await fuzz(
    'peer frames into the host',
    fc.asyncProperty(fc.constantFrom(2, 3, 99), fc.array(frame, { minLength: 1, maxLength: 4 }), async (claimed, frames) => {
      const ws = await connect(claimed);
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      for (const f of frames) if (ws.readyState === WebSocket.OPEN) ws.send(f);
      const key = `fuzz-${written++}`;
      const put = await request(node.url, 'POST', '/v1/groups/kv/commands/put', { token: TOKEN, body: JSON.stringify({ key, value: 'v' }) });
      assert.equal(put.status, 200, put.text);
      ws.close();
      const code = await closed;
      assert.ok([1000, 1005, 1003, 1008].includes(code), `closed with ${code}`);
    }),
    100,
  );
  for (let i = 0; i < written; i++) {
    const get = await request(node.url, 'POST', '/v1/groups/kv/queries/get', { token: TOKEN, body: JSON.stringify({ key: `fuzz-${i}` }) });
    assert.equal(get.json?.result?.value, 'v', `fuzz-${i}`);
  }
});
