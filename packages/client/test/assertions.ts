// Shared by the client's unit tests.
import assert from 'node:assert/strict';
import { RaftClientError } from '../src/index.js';

/** The RaftClientError `p` rejects with (fails the test if it resolves or throws anything else). */
export async function failure(p: Promise<unknown>): Promise<RaftClientError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof RaftClientError, String(e));
    return e;
  }
  assert.fail('expected a failure');
}
