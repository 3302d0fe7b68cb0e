// Errors of Node's HTTP parser answer the API's JSON error shape where a response can be written.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerParserErrorsAsJson, parserRefusal } from '../../src/server/client-errors.js';
import { startSingleNode, type SingleNode } from '../support/single-node.js';

let node: SingleNode;
before(async () => {
  node = await startSingleNode();
});
after(async () => {
  await node.stop();
});

function raw(port: number, data: string): Promise<{ status: number; json: { error: string; message: string } }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(data));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      try {
        resolve({ status, json: JSON.parse(body) as { error: string; message: string } });
      } catch {
        reject(new Error(`not a JSON answer: ${JSON.stringify(text.slice(0, 300))}`));
      }
    });
  });
}

test('headers over the parser limit answer 431 headers_too_large as JSON', async () => {
  const r = await raw(node.port, `GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  assert.equal(r.status, 431);
  assert.equal(r.json.error, 'headers_too_large');
});

test('an unparsable request answers 400 bad_request as JSON', async () => {
  for (const junk of ['HELLO THERE\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n', 'GET / HTTP/1.1\r\nBad Header\r\n\r\n']) {
    const r = await raw(node.port, junk);
    assert.equal(r.status, 400, junk);
    assert.equal(r.json.error, 'bad_request');
  }
});

test('an Expect other than 100-continue answers 417 expectation_failed as JSON', async () => {
  const r = await raw(node.port, 'GET /v1/status HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n');
  assert.equal(r.status, 417);
  assert.equal(r.json.error, 'expectation_failed');
});

test('parser timeouts map to 408 request_timeout', () => {
  assert.deepEqual({ status: parserRefusal('ERR_HTTP_REQUEST_TIMEOUT').status, error: parserRefusal('ERR_HTTP_REQUEST_TIMEOUT').error }, { status: 408, error: 'request_timeout' });
});

test("a request whose headers do not arrive in time answers 408 request_timeout as JSON (Node's own timeout, live)", async () => {
  // The node's server keeps Node's default timeouts (headers 60 s, checked every 30 s); the same
  // handler on a server with short ones shows the answer a slow client gets.
  const server = createServer({ headersTimeout: 300, requestTimeout: 600, connectionsCheckingInterval: 50 }, (_req, res) => res.end('served'));
  answerParserErrorsAsJson(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const r = await raw((server.address() as AddressInfo).port, 'GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    assert.equal(r.status, 408);
    assert.equal(r.json.error, 'request_timeout');
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
