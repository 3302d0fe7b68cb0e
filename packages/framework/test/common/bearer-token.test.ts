import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bearerTokenCheck } from '../../src/common/bearer-token.js';

test('one bearer-token rule for the API and the peer transport', () => {
  const check = bearerTokenCheck('s3cret');
  for (const h of ['Bearer s3cret', 'bearer s3cret', 'BEARER\ts3cret', 'Bearer   s3cret  ']) assert.equal(check(h), 'ok', h);
  for (const h of [undefined, '', 'Bearer', 'Basic s3cret', 's3cret', ['Bearer s3cret']]) assert.equal(check(h as string | undefined), 'missing', String(h));
  for (const h of ['Bearer s3cre', 'Bearer s3cret2', 'Bearer S3CRET']) assert.equal(check(h), 'wrong', h);
  // No token configured: everything passes, as it did.
  assert.equal(bearerTokenCheck(undefined)(undefined), 'ok');
  assert.equal(bearerTokenCheck('')('Bearer x'), 'ok');
});
