// Group commit: entries share a SQLite transaction, the file never holds effects without their
// applied index (nor the reverse), an entry that throws is undone alone, and a batch lost under
// the store stops it from answering until a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { MetaError } from '../../src/api/meta-error.js';
import { FLUSH_DELAY_MS, LostEntriesError } from '../../src/store/entry-batch.js';
import { StoreFixture } from './store-fixture.js';

function fixture(t: { after: (f: () => void) => void }): StoreFixture {
  const f = new StoreFixture();
  t.after(() => f.close());
  return f;
}

/** What another connection (a crash's survivor, a snapshot's reader) sees committed in the file. */
function committed(f: StoreFixture): { index: number; keys: string[] } {
  const db = new Database(f.store.file, { readonly: true });
  try {
    const index = Number((db.prepare("SELECT value FROM state WHERE name = 'applied_index'").get() as { value: number }).value);
    const keys = (db.prepare('SELECT key FROM kv ORDER BY key').all() as { key: Buffer }[]).map((r) => r.key.toString());
    return { index, keys };
  } finally {
    db.close();
  }
}

test('entries of one batch reach the file together with their applied index, and reads see them before', (t) => {
  const f = fixture(t);
  f.put('a', '1');
  f.put('b', '2');
  f.put('c', '3');
  assert.deepEqual(f.keys('a', { rangeEnd: Buffer.from([0]) }), ['a', 'b', 'c'], 'the applying connection sees its batch');
  assert.deepEqual(committed(f), { index: 0, keys: [] }, 'nothing of the open batch is in the file: a crash now loses effects and index together');
  f.store.settle();
  assert.deepEqual(committed(f), { index: 3, keys: ['a', 'b', 'c'] });
});

test('a batch commits by itself shortly after its first entry', async (t) => {
  const f = fixture(t);
  f.put('a', '1');
  await sleep(FLUSH_DELAY_MS * 5);
  assert.deepEqual(committed(f), { index: 1, keys: ['a'] });
});

test('an entry that throws inside a batch is undone alone: its writes and counters go, its neighbours stay', (t) => {
  const f = fixture(t);
  f.put('a', '1');
  const revision = f.revision;
  assert.throws(
    () =>
      f.entry((e) => {
        e.revision((w) => w.put(Buffer.from('doomed'), Buffer.from('x'), 0n));
        throw new MetaError('no_space');
      }),
    (e: unknown) => e instanceof MetaError,
  );
  assert.equal(f.revision, revision, 'the revision the failed entry took is given back');
  assert.equal(f.store.counters.appliedIndex, 1, 'the failed entry did not record its index');
  f.put('c', '3');
  assert.equal(f.revision, revision + 1);
  assert.deepEqual(f.keys('a', { rangeEnd: Buffer.from([0]) }), ['a', 'c']);
  assert.equal(f.reopen(), 3, 'close commits the batch; the reopened file holds the last entry that returned');
  assert.deepEqual(f.keys('a', { rangeEnd: Buffer.from([0]) }), ['a', 'c']);
  assert.equal(f.revision, revision + 1);
});

test('a snapshot pin sees every entry applied before it', (t) => {
  const f = fixture(t);
  f.put('a', '1');
  f.put('b', '2');
  const pinned = f.store.pin();
  try {
    const keys = (pinned.reader.prepare('SELECT key FROM kv ORDER BY key').all() as { key: Buffer }[]).map((r) => r.key.toString());
    assert.deepEqual(keys, ['a', 'b']);
  } finally {
    f.store.release(pinned);
  }
});

test('a batch that SQLite ended under the store: every entry and read is refused until the store reopens, which then holds the last committed index', (t) => {
  const f = fixture(t);
  f.put('a', '1');
  f.store.settle();
  f.put('b', '2');
  // What a disk error does: SQLite rolls the whole transaction back, taking the answered entry with it.
  f.store.stmt('ROLLBACK').run();
  assert.throws(() => f.put('c', '3'), LostEntriesError);
  assert.throws(() => f.range('a'), LostEntriesError, 'reads would miss an entry already answered');
  assert.throws(() => f.put('d', '4'), LostEntriesError, 'it stays refused');
  assert.equal(f.reopen(), 1, 'the log applies entries 2 and later again from here');
  assert.deepEqual(f.keys('a', { rangeEnd: Buffer.from([0]) }), ['a']);
  f.index = 1;
  f.put('b', '2');
  assert.deepEqual(f.keys('a', { rangeEnd: Buffer.from([0]) }), ['a', 'b']);
});
