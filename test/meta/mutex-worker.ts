// One contender of the mutex fault test, as its own process: a MetaClient of every node, a
// Session, and a loop of lock → a guarded write → unlock until its run time is over. It reports
// what it did as JSON lines on stdout (the test process checks them against the store's history):
//   {e:'session', w, lease, at}                 a new session (lease id in hex: the lock key's suffix)
//   {e:'acquired', w, token, heldSince, at}     lock() resolved (at: this process's clock, ms)
//   {e:'write', w, token, sentAt, doneAt, outcome: 'ok'|'refused'|'unknown', revision?, why?}
//   {e:'released', w, token, at, lost, why?}    at: when it stopped counting on the lock (before its unlock was sent)
//   {e:'error', w, at, message}                 a failed lock()/unlock() (retried)
//   {e:'done', w, at}
// A guarded write is one txn: the lock key still has this hold's create revision (Mutex.isOwner)
// and the guard's value (the last token written, 20-digit decimal) is below this hold's token;
// then it puts the token. The worker does not look at its session before writing: a process
// paused between such a look and its write could not either, so the store's guard has to stop a
// holder whose lock has passed on.
// Each hold: lock, wait holdMs (the hold's work), one guarded write, unlock.
// Run: node mutex-worker.js '<json config>' (see WorkerConfig).
import { compare, putRequest, rangeRequest, txnRequest } from '@raftkit/metadata-demo';
import { MetaClient } from '@raftkit/metadata-demo/client';
import { Mutex, Session, tokenString } from '@raftkit/metadata-demo/recipes';

export interface WorkerConfig {
  id: number;
  endpoints: string[];
  lock: string;
  guard: string;
  /** Stop starting new holds after this long. */
  runMs: number;
  /** Session TTL in seconds. */
  ttl: number;
  /** How long a hold lasts before its guarded write. */
  holdMs: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const w = config.id;
const emit = (o: object) => process.stdout.write(`${JSON.stringify({ w, ...o })}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const client = new MetaClient({
    endpoints: config.endpoints,
    callTimeoutMs: 3000,
    attemptTimeoutMs: 1000,
    connectTimeoutMs: 500,
    // A paused or dead node's connection is dropped within ~2 s, its streams move on.
    keepAliveTimeMs: 1000,
    keepAliveTimeoutMs: 1000,
  });
  const stopAt = Date.now() + config.runMs;
  let session: Session | undefined;
  while (Date.now() < stopAt) {
    try {
      if (!session || session.closed) {
        session = await Session.create(client, { ttl: config.ttl });
        emit({ e: 'session', lease: session.lease.toString(16), at: Date.now() });
      }
      const mutex = new Mutex(client, session, config.lock);
      const token = await mutex.lock(AbortSignal.timeout(Math.max(1, stopAt - Date.now())));
      emit({ e: 'acquired', token, heldSince: mutex.heldSince, at: Date.now() });
      let lost = false;
      let why: string | undefined;
      // The hold's work takes a while (a pause here is when a process can lose its lock unknowingly).
      await sleep(config.holdMs);
      const sentAt = Date.now();
      try {
        const r = await client.txn(
          txnRequest({
            compare: [mutex.isOwner(), compare(config.guard, 'less', { value: tokenString(token) })],
            success: [{ put: putRequest(config.guard, tokenString(token)) }],
            failure: [{ range: rangeRequest(mutex.key) }, { range: rangeRequest(config.guard) }],
          }),
        );
        if (r.succeeded) {
          emit({ e: 'write', token, sentAt, doneAt: Date.now(), outcome: 'ok', revision: r.header.revision });
        } else {
          const mine = r.responses[0];
          const keyGone = mine !== undefined && 'range' in mine && mine.range.count === 0;
          why = keyGone ? 'lock key gone' : 'guard not below the token';
          emit({ e: 'write', token, sentAt, doneAt: Date.now(), outcome: 'refused', revision: r.header.revision, why });
          lost = keyGone;
        }
      } catch (e) {
        // A timeout or a broken connection after sending: the write may or may not be applied.
        emit({ e: 'write', token, sentAt, doneAt: Date.now(), outcome: 'unknown', why: (e as Error).message });
      }
      const releasedAt = Date.now();
      if (session.closed) {
        lost = true;
        why ??= 'session ended';
      }
      // Delete is idempotent: an unlock whose answer was lost is sent again.
      let released = false;
      for (let attempt = 0; attempt < 5 && !released; attempt++) {
        try {
          if (!(await mutex.unlock()) && attempt === 0) {
            lost = true;
            why ??= 'lock key gone at unlock';
          }
          released = true;
        } catch (e) {
          emit({ e: 'error', at: Date.now(), message: `unlock: ${(e as Error).message}` });
          if (session.closed) break;
          await sleep(200);
        }
      }
      emit({ e: 'released', token, at: releasedAt, lost, why });
      if (!released) {
        // The key may still be there: give this session up (its lease takes the key when it expires).
        session.orphan();
        session = undefined;
      }
    } catch (e) {
      emit({ e: 'error', at: Date.now(), message: `lock: ${(e as Error).message}` });
      await sleep(50);
    }
  }
  await session?.close().catch(() => undefined);
  client.close();
  emit({ e: 'done', at: Date.now() });
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    emit({ e: 'error', at: Date.now(), message: `fatal: ${(e as Error).stack ?? String(e)}` });
    process.exit(1);
  },
);
