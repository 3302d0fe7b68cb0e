// An in-memory MetaBackend for the protocol tests of the gRPC server and the JSON gateway: a map
// of key versions with revisions, compaction, leases on wall-clock timers and watches with
// history, enough to drive etcd's clients against. NOT the real store (src/store): no raft, no
// durability, no limits; it exists so the wire layers can be tested on their own.
import type {
  AlarmRequest,
  AlarmResponse,
  CompactionRequest,
  CompactionResponse,
  Compare,
  DeleteRangeRequest,
  DeleteRangeResponse,
  Event,
  KeyRange,
  KeyValue,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  MemberListResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseHeader,
  ResponseOp,
  StatusResponse,
  TxnRequest,
  TxnResponse,
  WatchCreateRequest,
  WatchResponse,
} from '../../src/api/etcd-types.js';
import type { CallOptions, MetaBackend, WatchHandle, WatchSink } from '../../src/api/meta-backend.js';
import { MetaError } from '../../src/api/meta-error.js';

export const FAKE_CLUSTER_ID = 0xcafe_f00d_0000_0001n;
export const FAKE_MEMBER_ID = 0x8e9e_05c5_2164_694dn;

type Version = { kv: KeyValue } | { deletedAt: number };

interface Lease {
  id: bigint;
  granted: number;
  expiresAt: number;
  keys: Set<string>;
}

interface FakeWatch {
  req: WatchCreateRequest;
  sink: WatchSink;
  queue: WatchResponse[];
  held: boolean;
  active: boolean;
}

const ZERO = Buffer.from([0]);

function inRange(r: KeyRange, key: Buffer): boolean {
  if (r.rangeEnd.length === 0) return key.equals(r.key);
  if (r.rangeEnd.equals(ZERO)) return r.key.equals(ZERO) || Buffer.compare(key, r.key) >= 0;
  return Buffer.compare(key, r.key) >= 0 && Buffer.compare(key, r.rangeEnd) < 0;
}

export class FakeBackend implements MetaBackend {
  revision = 1;
  compacted = 0;
  /** Every call as "method", in order (tests assert on what reached the backend). */
  readonly calls: string[] = [];
  /** The options of the last call. */
  lastOptions: CallOptions | undefined;
  /** Thrown by the next call instead of answering (then cleared). */
  failNext: unknown;
  /** Makes every unary call wait this long first (to test cancellation and deadlines). */
  delayMs = 0;
  /** Every watch created, in order (tests assert on which keys were watched). */
  readonly watchRequests: WatchCreateRequest[] = [];

  private readonly versions = new Map<string, Version[]>();
  private readonly history: { revision: number; events: Event[] }[] = [];
  private readonly leases = new Map<bigint, Lease>();
  private readonly watches = new Set<FakeWatch>();
  private readonly timer = setInterval(() => this.expireLeases(), 100);

  constructor() {
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
    for (const w of this.watches) w.active = false;
  }

  get watchCount(): number {
    return [...this.watches].filter((w) => w.active).length;
  }

  /** Watches whose sink said it was full and that wait for resume(). */
  get heldCount(): number {
    return [...this.watches].filter((w) => w.active && w.held).length;
  }

  header(revision = this.revision): ResponseHeader {
    return { clusterId: FAKE_CLUSTER_ID, memberId: FAKE_MEMBER_ID, revision, raftTerm: 2 };
  }

  private async enter(method: string, o: CallOptions | undefined): Promise<void> {
    this.calls.push(method);
    this.lastOptions = o;
    if (this.failNext !== undefined) {
      const e = this.failNext;
      this.failNext = undefined;
      throw e;
    }
    if (this.delayMs > 0) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, this.delayMs);
        o?.signal?.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new MetaError('canceled'));
        });
      });
    }
  }

  // ---- reads ----

  private valueAt(k: string, revision: number): KeyValue | undefined {
    const vs = this.versions.get(k) ?? [];
    let found: Version | undefined;
    for (const v of vs) {
      const rev = 'kv' in v ? v.kv.modRevision : v.deletedAt;
      if (rev <= revision) found = v;
    }
    return found && 'kv' in found ? found.kv : undefined;
  }

  private select(r: KeyRange, revision: number): KeyValue[] {
    const out: KeyValue[] = [];
    for (const k of [...this.versions.keys()].sort()) {
      const key = Buffer.from(k, 'latin1');
      if (!inRange(r, key)) continue;
      const kv = this.valueAt(k, revision);
      if (kv) out.push(kv);
    }
    return out;
  }

  private checkRevision(revision: number): number {
    if (revision === 0) return this.revision;
    if (revision > this.revision) throw new MetaError('future_rev');
    if (revision < this.compacted) throw new MetaError('compacted');
    return revision;
  }

  private rangeNow(r: RangeRequest, headerRevision?: number, pending?: number): RangeResponse {
    const at = pending ?? this.checkRevision(r.revision);
    let kvs = this.select(r, at).filter(
      (kv) =>
        (r.minModRevision === 0 || kv.modRevision >= r.minModRevision) &&
        (r.maxModRevision === 0 || kv.modRevision <= r.maxModRevision) &&
        (r.minCreateRevision === 0 || kv.createRevision >= r.minCreateRevision) &&
        (r.maxCreateRevision === 0 || kv.createRevision <= r.maxCreateRevision),
    );
    const order = r.sortTarget !== 'key' && r.sortOrder === 'none' ? 'ascend' : r.sortOrder;
    if (order !== 'none') {
      const field = (kv: KeyValue): number | Buffer => ({ key: kv.key, version: kv.version, create: kv.createRevision, mod: kv.modRevision, value: kv.value })[r.sortTarget];
      kvs.sort((a, b) => {
        const x = field(a);
        const y = field(b);
        const c = typeof x === 'number' ? x - (y as number) : Buffer.compare(x, y as Buffer);
        return order === 'ascend' ? c : -c;
      });
    }
    const count = kvs.length;
    const more = r.limit > 0 && count > r.limit;
    if (r.limit > 0) kvs = kvs.slice(0, r.limit);
    if (r.countOnly) kvs = [];
    if (r.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: Buffer.alloc(0) }));
    return { header: headerRevision === undefined ? this.header() : this.innerHeader(headerRevision), kvs, more, count };
  }

  /** etcd's txn op responses carry only the revision in their header. */
  private innerHeader(revision: number): ResponseHeader {
    return { clusterId: 0n, memberId: 0n, revision, raftTerm: 0 };
  }

  async range(r: RangeRequest, o?: CallOptions): Promise<RangeResponse> {
    await this.enter('range', o);
    return this.rangeNow(r);
  }

  // ---- writes ----

  private writeKey(rev: number, key: Buffer, value: Buffer, lease: bigint, events: Event[]): KeyValue | undefined {
    const k = key.toString('latin1');
    const prev = this.valueAt(k, rev);
    const kv: KeyValue = {
      key,
      createRevision: prev?.createRevision ?? rev,
      modRevision: rev,
      version: (prev?.version ?? 0) + 1,
      value,
      lease,
    };
    const vs = this.versions.get(k) ?? [];
    if (vs.length > 0) {
      const last = vs[vs.length - 1]!;
      if (('kv' in last ? last.kv.modRevision : last.deletedAt) === rev) vs.pop();
    }
    vs.push({ kv });
    this.versions.set(k, vs);
    if (prev && prev.lease !== 0n) this.leases.get(prev.lease)?.keys.delete(k);
    if (lease !== 0n) this.leases.get(lease)?.keys.add(k);
    events.push(prev ? { type: 'put', kv, prevKv: prev } : { type: 'put', kv });
    return prev;
  }

  private deleteKeys(rev: number, r: KeyRange, events: Event[]): KeyValue[] {
    const gone = this.select(r, rev);
    for (const kv of gone) {
      const k = kv.key.toString('latin1');
      this.versions.get(k)!.push({ deletedAt: rev });
      if (kv.lease !== 0n) this.leases.get(kv.lease)?.keys.delete(k);
      events.push({ type: 'delete', kv: { key: kv.key, createRevision: 0, modRevision: rev, version: 0, value: Buffer.alloc(0), lease: 0n }, prevKv: kv });
    }
    return gone;
  }

  private putAt(rev: number, r: PutRequest, events: Event[]): PutResponse {
    const prev = this.valueAt(r.key.toString('latin1'), this.revision);
    if ((r.ignoreValue || r.ignoreLease) && !prev) throw new MetaError('key_not_found');
    const lease = r.ignoreLease ? prev!.lease : r.lease;
    if (lease !== 0n && !this.leases.has(lease)) throw new MetaError('lease_not_found');
    const value = r.ignoreValue ? prev!.value : r.value;
    const before = this.writeKey(rev, r.key, value, lease, events);
    return r.prevKv && before ? { header: this.header(rev), prevKv: before } : { header: this.header(rev) };
  }

  /** Applies one revision's events: bumps the revision and tells the watches. */
  private commit(events: Event[]): void {
    if (events.length === 0) return;
    this.revision++;
    this.history.push({ revision: this.revision, events });
    for (const w of this.watches) this.notify(w, this.revision, events);
  }

  async put(r: PutRequest, o?: CallOptions): Promise<PutResponse> {
    await this.enter('put', o);
    const events: Event[] = [];
    const response = this.putAt(this.revision + 1, r, events);
    this.commit(events);
    return response;
  }

  async deleteRange(r: DeleteRangeRequest, o?: CallOptions): Promise<DeleteRangeResponse> {
    await this.enter('deleteRange', o);
    const events: Event[] = [];
    const gone = this.deleteKeys(this.revision + 1, r, events);
    this.commit(events);
    return { header: this.header(), deleted: gone.length, prevKvs: r.prevKv ? gone : [] };
  }

  private compare(c: Compare): boolean {
    const kvs = c.rangeEnd.length === 0 ? [this.valueAt(c.key.toString('latin1'), this.revision)] : this.select(c, this.revision);
    return kvs.every((kv) => {
      const actual: number | bigint | Buffer = {
        version: kv?.version ?? 0,
        create: kv?.createRevision ?? 0,
        mod: kv?.modRevision ?? 0,
        value: kv?.value ?? Buffer.alloc(0),
        lease: kv?.lease ?? 0n,
      }[c.target];
      if (c.target === 'value' && !kv) return false;
      const expected = { version: c.version, create: c.createRevision, mod: c.modRevision, value: c.value, lease: c.lease }[c.target];
      const cmp = Buffer.isBuffer(actual)
        ? Buffer.compare(actual, expected as Buffer)
        : BigInt(actual) < BigInt(expected as number | bigint)
          ? -1
          : BigInt(actual) > BigInt(expected as number | bigint)
            ? 1
            : 0;
      return { equal: cmp === 0, not_equal: cmp !== 0, greater: cmp > 0, less: cmp < 0 }[c.result];
    });
  }

  private txnAt(rev: number, r: TxnRequest, events: Event[]): TxnResponse {
    const succeeded = r.compare.every((c) => this.compare(c));
    const responses: ResponseOp[] = (succeeded ? r.success : r.failure).map((op: RequestOp): ResponseOp => {
      // A read in a txn sees the txn's writes before it, at the revision they make.
      if ('range' in op) {
        const pending = op.range.revision === 0 && events.length > 0 ? rev : undefined;
        return { range: this.rangeNow(op.range, pending ?? this.revision, pending) };
      }
      if ('put' in op) return { put: { ...this.putAt(rev, op.put, events), header: this.innerHeader(rev) } };
      if ('deleteRange' in op) {
        const gone = this.deleteKeys(rev, op.deleteRange, events);
        return { deleteRange: { header: this.innerHeader(rev), deleted: gone.length, prevKvs: op.deleteRange.prevKv ? gone : [] } };
      }
      return { txn: { ...this.txnAt(rev, op.txn, events), header: this.innerHeader(0) } };
    });
    return { header: this.header(), succeeded, responses };
  }

  async txn(r: TxnRequest, o?: CallOptions): Promise<TxnResponse> {
    await this.enter('txn', o);
    const events: Event[] = [];
    const response = this.txnAt(this.revision + 1, r, events);
    this.commit(events);
    return { ...response, header: this.header() };
  }

  async compact(r: CompactionRequest, o?: CallOptions): Promise<CompactionResponse> {
    await this.enter('compact', o);
    if (r.revision > this.revision) throw new MetaError('future_rev');
    if (r.revision <= this.compacted) throw new MetaError('compacted');
    this.compacted = r.revision;
    while (this.history.length > 0 && this.history[0]!.revision < r.revision) this.history.shift();
    return { header: this.header() };
  }

  // ---- leases ----

  private expireLeases(): void {
    const now = Date.now();
    for (const l of [...this.leases.values()]) if (l.expiresAt <= now) this.revokeNow(l.id);
  }

  private revokeNow(id: bigint): void {
    const lease = this.leases.get(id);
    if (!lease) throw new MetaError('lease_not_found');
    this.leases.delete(id);
    const events: Event[] = [];
    for (const k of [...lease.keys].sort()) this.deleteKeys(this.revision + 1, { key: Buffer.from(k, 'latin1'), rangeEnd: Buffer.alloc(0) }, events);
    this.commit(events);
  }

  async leaseGrant(r: LeaseGrantRequest, o?: CallOptions): Promise<LeaseGrantResponse> {
    await this.enter('leaseGrant', o);
    if (r.ttl > 9_000_000_000) throw new MetaError('lease_ttl_too_large');
    const id = r.id !== 0n ? r.id : BigInt(Math.floor(Math.random() * 2 ** 52)) * 1024n + 7n;
    if (this.leases.has(id)) throw new MetaError('lease_exists');
    const ttl = Math.max(r.ttl, 2);
    this.leases.set(id, { id, granted: ttl, expiresAt: Date.now() + ttl * 1000, keys: new Set() });
    return { header: this.header(), id, ttl, error: '' };
  }

  async leaseRevoke(r: LeaseRevokeRequest, o?: CallOptions): Promise<LeaseRevokeResponse> {
    await this.enter('leaseRevoke', o);
    this.revokeNow(r.id);
    return { header: this.header() };
  }

  async leaseKeepAlive(id: bigint, o?: CallOptions): Promise<LeaseKeepAliveResponse> {
    await this.enter('leaseKeepAlive', o);
    const lease = this.leases.get(id);
    if (!lease) return { header: this.header(), id, ttl: 0 };
    lease.expiresAt = Date.now() + lease.granted * 1000;
    return { header: this.header(), id, ttl: lease.granted };
  }

  async leaseTimeToLive(r: LeaseTimeToLiveRequest, o?: CallOptions): Promise<LeaseTimeToLiveResponse> {
    await this.enter('leaseTimeToLive', o);
    const lease = this.leases.get(r.id);
    if (!lease) return { header: this.header(), id: r.id, ttl: -1, grantedTtl: 0, keys: [] };
    const keys = r.keys ? [...lease.keys].sort().map((k) => Buffer.from(k, 'latin1')) : [];
    return { header: this.header(), id: r.id, ttl: Math.max(0, Math.ceil((lease.expiresAt - Date.now()) / 1000) - 1), grantedTtl: lease.granted, keys };
  }

  async leaseLeases(o?: CallOptions): Promise<LeaseLeasesResponse> {
    await this.enter('leaseLeases', o);
    return { header: this.header(), leases: [...this.leases.keys()].map((id) => ({ id })) };
  }

  // ---- cluster ----

  async memberList(o?: CallOptions): Promise<MemberListResponse> {
    await this.enter('memberList', o);
    return {
      header: { ...this.header(), revision: 0 },
      members: [{ id: FAKE_MEMBER_ID, name: 'fake-1', peerUrls: ['http://127.0.0.1:2380'], clientUrls: ['http://127.0.0.1:2379'], isLearner: false }],
    };
  }

  async status(o?: CallOptions): Promise<StatusResponse> {
    await this.enter('status', o);
    return {
      header: this.header(),
      version: '3.4.23',
      dbSize: 20480,
      leader: FAKE_MEMBER_ID,
      raftIndex: this.revision + 10,
      raftTerm: 2,
      raftAppliedIndex: this.revision + 10,
      errors: [],
      dbSizeInUse: 16384,
      isLearner: false,
    };
  }

  async alarm(r: AlarmRequest, o?: CallOptions): Promise<AlarmResponse> {
    await this.enter('alarm', o);
    void r;
    return { header: this.header(), alarms: [] };
  }

  // ---- watches ----

  private response(w: FakeWatch, fields: Partial<WatchResponse>, revision = this.revision): WatchResponse {
    return { header: this.header(revision), watchId: w.req.watchId, created: false, canceled: false, compactRevision: 0, cancelReason: '', fragment: false, events: [], ...fields };
  }

  private push(w: FakeWatch, r: WatchResponse): void {
    w.queue.push(r);
    this.flush(w);
  }

  private flush(w: FakeWatch): void {
    while (w.active && !w.held && w.queue.length > 0) {
      if (!w.sink.send(w.queue.shift()!)) w.held = true;
    }
  }

  private notify(w: FakeWatch, revision: number, events: Event[]): void {
    if (!w.active || revision < w.req.startRevision) return;
    const matching = events
      .filter((e) => inRange(w.req, e.kv.key))
      .filter((e) => !(e.type === 'put' && w.req.filters.includes('noput')) && !(e.type === 'delete' && w.req.filters.includes('nodelete')))
      .map((e) => (w.req.prevKv || !e.prevKv ? e : { type: e.type, kv: e.kv }));
    if (matching.length > 0) this.push(w, this.response(w, { events: matching }, revision));
  }

  /**
   * Cancels every active watch with compact_revision set to the last compaction, as the real
   * store does to a watch that fell behind a compaction while paused, or whose node installed a
   * snapshot whose history starts after it.
   */
  cancelWatchesAsCompacted(): void {
    for (const w of [...this.watches]) {
      if (!w.active) continue;
      this.push(w, this.response(w, { canceled: true, compactRevision: this.compacted }, 0));
      w.active = false;
      this.watches.delete(w);
    }
  }

  watch(req: WatchCreateRequest, sink: WatchSink): WatchHandle & { resume(): void } {
    this.calls.push('watch');
    this.watchRequests.push(req);
    const w: FakeWatch = { req, sink, queue: [], held: false, active: true };
    this.push(w, this.response(w, { created: true }));
    if (req.startRevision !== 0 && req.startRevision < this.compacted) {
      this.push(w, this.response(w, { canceled: true, compactRevision: this.compacted }, 0));
      w.active = false;
    } else {
      this.watches.add(w);
      if (req.startRevision !== 0) for (const h of this.history) this.notify(w, h.revision, h.events);
    }
    return {
      watchId: req.watchId,
      cancel: () => {
        w.active = false;
        this.watches.delete(w);
      },
      requestProgress: () => this.push(w, this.response(w, {})),
      resume: () => {
        w.held = false;
        this.flush(w);
      },
    };
  }
}
