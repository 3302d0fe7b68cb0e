// Peer identity without TLS: a dialling node proves its id with a key derived from the cluster
// secret (transport/peer-credentials.ts); tokens rotate without downtime (--accept-token).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bearerTokenCheck } from '../../src/common/bearer-token.js';
import { HEADER_PROOF, PeerProofChecker, PROOF_WINDOW_MS, peerProofHeaders } from '../../src/transport/peer-credentials.js';
import { parseServerFlags, FlagError } from '../../src/server/flags.js';

test('a proof is valid only for the id, target and secret it was made with, and only once', () => {
  const checker = new PeerProofChecker(['s3cret']);
  assert.deepEqual(checker.check(peerProofHeaders('s3cret', 2, 1), 2, 1), { ok: true });
  assert.equal(checker.check(peerProofHeaders('s3cret', 2, 1), 3, 1).ok, false, 'claimed as another id');
  assert.equal(checker.check(peerProofHeaders('s3cret', 2, 1), 2, 4).ok, false, 'shown to another target');
  assert.equal(checker.check(peerProofHeaders('other', 2, 1), 2, 1).ok, false, 'another cluster');
  const once = peerProofHeaders('s3cret', 2, 1);
  assert.equal(checker.check(once, 2, 1).ok, true);
  assert.match((checker.check(once, 2, 1) as { reason: string }).reason, /replayed/);
  const stale = peerProofHeaders('s3cret', 2, 1, Date.now() - PROOF_WINDOW_MS - 1000);
  assert.match((checker.check(stale, 2, 1) as { reason: string }).reason, /minutes off/);
  const tampered = { ...peerProofHeaders('s3cret', 2, 1), [HEADER_PROOF]: '0'.repeat(64) };
  assert.equal(checker.check(tampered, 2, 1).ok, false);
  assert.match((checker.check({}, 2, 1) as { reason: string }).reason, /missing/);
});

test('rotation: a node accepting old and new takes proofs and bearer tokens of both', () => {
  const during = new PeerProofChecker(['new', 'old']);
  assert.equal(during.check(peerProofHeaders('old', 2, 1), 2, 1).ok, true);
  assert.equal(during.check(peerProofHeaders('new', 3, 1), 3, 1).ok, true);
  assert.equal(during.check(peerProofHeaders('older', 3, 1), 3, 1).ok, false);
  const api = bearerTokenCheck('new', ['old']);
  assert.equal(api('Bearer new'), 'ok');
  assert.equal(api('Bearer old'), 'ok');
  assert.equal(api('Bearer older'), 'wrong');
  assert.equal(bearerTokenCheck('new')('Bearer old'), 'wrong', 'after the window the old token is refused');
});

test('--accept-token parses a list and needs --token', () => {
  const base = ['--id', '1', '--listen', '127.0.0.1:1', '--data-dir', '/tmp/x'];
  const { flags } = parseServerFlags([...base, '--token', 'new', '--accept-token', 'old,older'], {});
  assert.deepEqual(flags.acceptTokens, ['old', 'older']);
  assert.equal(parseServerFlags([...base, '--token', 'new'], {}).flags.acceptTokens, undefined);
  assert.throws(() => parseServerFlags([...base, '--accept-token', 'old'], {}), FlagError);
  assert.throws(() => parseServerFlags([...base, '--token', 'n', '--accept-token', 'a,,b'], {}), FlagError);
});

test('--peer-token: a separate secret for member identities (API clients hold only --token)', () => {
  const base = ['--id', '1', '--listen', '127.0.0.1:1', '--data-dir', '/tmp/x'];
  assert.equal(parseServerFlags([...base, '--token', 'api', '--peer-token', 'members'], {}).flags.peerToken, 'members');
  assert.equal(parseServerFlags([...base, '--token', 'api'], { RAFTKIT_PEER_TOKEN: 'members' }).flags.peerToken, 'members');
  assert.throws(() => parseServerFlags([...base, '--peer-token', 'members'], {}), FlagError);
  // A proof made with the API token does not pass a node whose member secret differs.
  assert.equal(new PeerProofChecker(['members']).check(peerProofHeaders('api', 2, 1), 2, 1).ok, false);
});
