// Defect 2 of issue 16: an NDJSON watch of ~9 MB of history from index 1 got no entry and a
// slow_consumer line, on every try. Backlog delivery now follows the socket's backpressure.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { WebSocket } from 'ws';
import { request } from '../api/helpers.js';
import { startSingleNode, type SingleNode } from '../support/single-node.js';

const VALUE = 'v'.repeat(1_000_000);
const PUTS = 9;
let node: SingleNode;

before(async () => {
  node = await startSingleNode();
  for (let i = 0; i < PUTS; i++) {
    const r = await request(node.url, 'POST', '/v1/groups/kv/commands/put', { body: JSON.stringify({ key: `big${i}`, value: VALUE }) });
    assert.equal(r.status, 200, r.text.slice(0, 200));
  }
});
after(async () => {
  await node.stop();
});

/** Reads an NDJSON watch until `count` entries arrived (or the stream ended), pausing once if asked. */
function readNdjson(from: number, count: number, pauseMs = 0): Promise<{ indexes: number[]; errors: unknown[] }> {
  return new Promise((resolve, reject) => {
    const indexes: number[] = [];
    const errors: unknown[] = [];
    const req = http.get({ host: '127.0.0.1', port: node.port, path: `/v1/groups/kv/watch?from=${from}`, agent: false }, (res) => {
      assert.equal(res.statusCode, 200);
      let buf = '';
      let paused = false;
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = JSON.parse(buf.slice(0, nl)) as { index?: number; error?: string };
          buf = buf.slice(nl + 1);
          if (line.error) errors.push(line);
          else indexes.push(line.index!);
        }
        if (pauseMs > 0 && !paused && indexes.length >= 2) {
          paused = true;
          res.pause();
          setTimeout(() => res.resume(), pauseMs);
        }
        if (indexes.length >= count || errors.length > 0) {
          req.destroy();
          resolve({ indexes, errors });
        }
      });
      res.on('end', () => resolve({ indexes, errors }));
    });
    req.on('error', reject);
  });
}

test('an NDJSON watch of ~9 MB of history from index 1 delivers every entry', async () => {
  const { indexes, errors } = await readNdjson(1, PUTS);
  assert.deepEqual(errors, []);
  assert.equal(indexes.length, PUTS);
  assert.deepEqual(
    indexes,
    [...indexes].sort((a, b) => a - b),
  );
});

test('a reader that stops for a while mid-backlog and goes on still gets everything', async () => {
  const { indexes, errors } = await readNdjson(1, PUTS, 700);
  assert.deepEqual(errors, []);
  assert.equal(indexes.length, PUTS);
});

test('a resume from the index after the last one received makes progress', async () => {
  const first = await readNdjson(1, 4);
  const resumed = await readNdjson(first.indexes[3]! + 1, PUTS - 4);
  assert.deepEqual(resumed.errors, []);
  assert.equal(resumed.indexes.length, PUTS - 4);
  assert.ok(resumed.indexes[0]! > first.indexes[3]!);
});

test('a WebSocket watch of the same history delivers every entry', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${node.port}/v1/groups/kv/watch?from=1`);
  const indexes: number[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (d) => {
      indexes.push((JSON.parse(String(d)) as { index: number }).index);
      if (indexes.length === PUTS) resolve();
    });
    ws.on('close', (code, reason) => reject(new Error(`closed ${code} ${String(reason)}`)));
    ws.on('error', reject);
  });
  ws.removeAllListeners('close');
  ws.close();
  assert.equal(indexes.length, PUTS);
});
