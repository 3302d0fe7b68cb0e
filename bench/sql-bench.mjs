#!/usr/bin/env node
// bench:sql — the SQLite-replicated SQL store (raftkit-sql, rqlite's HTTP API) on a 3-node
// cluster on 127.0.0.1 with fsync on, next to the KV demo (raftkit-kv) in the same run, driven by
// the shared closed-loop load generator (../shared/bench/loadgen.mjs, generic adapter; the SQL
// specs are written at run time). Five parts, each printed with its target and a pass/miss mark:
//
//   insert    single-row INSERT OR REPLACE (256-byte values over 10,000 keys) at concurrency
//             1/16/64/256 against raftkit-kv puts, the two systems alternating run by run
//             (target: SQL at c64 >= 80 % of KV at c64, medians)
//   select    linearizable point SELECTs by primary key at c64 over all 3 nodes (KV linearizable
//             gets beside them for reference)
//   batch     one INSERT of 100 VALUES tuples per /db/execute at c16 and c64 (target: 100,000 rows/s)
//   restart   with >= 1,000,000 rows applied through >= 10,000 log entries: kill -9 a follower and
//             time spawn -> it serves a level=none read that sees every row; then SIGTERM the whole
//             cluster and time the same for all three (target: < 2 s)
//   snapshot  a follower, down while the leader's database grows to --snapshot-gib, restarted after
//             the leader compacted its log past it: its peak RSS (VmHWM) while it receives and
//             installs the snapshot, against its idle RSS (target: < 200 MiB above idle)
//
//   npm run bench:sql [-- --seconds 8 --parts insert,select,batch,restart,snapshot --snapshot-gib 2 --rounds 3 --json --keep]
//
// Data dirs live in one folder under os.tmpdir(), removed at the end (also on failure or Ctrl-C)
// unless --keep. Every process started here is stopped by PID when the run ends, however it ends.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { children, LOADGEN, freePorts, root, median, runLoadgen, sleep, track } from './lib.mjs';

const KV_BIN = join(root, 'packages/kv-demo/bin/raftkit-kv.js');
const SQL_BIN = join(root, 'packages/sql-demo/bin/raftkit-sql.js');
const KV_SPEC = join(root, '../shared/bench/specs/raftkit-kv.json');
const ALL_PARTS = ['insert', 'select', 'batch', 'restart', 'snapshot'];

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    parts: { type: 'string', default: ALL_PARTS.join(',') },
    'snapshot-gib': { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const snapshotGib = Number(values['snapshot-gib']);
const parts = values.parts
  .split(',')
  .map((p) => p.trim())
  .filter(Boolean);
const log = (...a) => {
  if (!values.json) console.log(...a);
};
function fail(msg) {
  console.error(`bench:sql: ${msg}`);
  process.exit(2);
}
for (const p of parts) if (!ALL_PARTS.includes(p)) fail(`unknown part "${p}" (parts: ${ALL_PARTS.join(', ')})`);
if (!(seconds > 0) || !(rounds >= 1) || !(snapshotGib > 0)) fail('--seconds, --rounds and --snapshot-gib must be positive');
for (const f of [LOADGEN, KV_SPEC]) if (!existsSync(f)) fail(`missing ${f} (the shared bench folder must sit beside the repository)`);
for (const f of ['packages/kv-demo/dist/src/main.js', 'packages/sql-demo/dist/src/main.js']) if (!existsSync(join(root, f))) fail('build first: npm run build');

// One folder for every data dir and spec; lib.mjs's exit hook SIGKILLs the children first (it was
// registered first), then this one removes the folder, on a normal end, an error or Ctrl-C alike.
const work = mkdtempSync(join(tmpdir(), 'raftkit-sqlbench-'));
process.on('exit', () => {
  if (values.keep) console.error(`bench:sql: data kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
});
process.on('SIGTERM', () => process.exit(143));
process.on('unhandledRejection', (e) => {
  console.error('bench:sql:', e);
  process.exit(1);
});

// ---------------------------------------------------------------- helpers

const MiB = 1024 * 1024;
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const mark = (ok) => (ok ? 'PASS' : 'MISS');

/** Waits until `probe` returns a value other than undefined, polling every `everyMs`; throws after `timeoutMs`. */
async function waitFor(what, timeoutMs, probe, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

async function getJson(url, timeoutMs = 1000) {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return r.ok ? await r.json() : undefined;
  } catch {
    return undefined;
  }
}

/** POSTs a JSON body and answers {status, body (parsed when JSON)}; network errors throw. */
async function post(url, body, timeoutMs = 30_000) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  const text = await r.text();
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: r.status, body: parsed, text };
}

/** rqlite /db/execute; throws on a non-200 or an error in any statement's place. */
async function sqlExec(url, statements, { timeoutS = 30 } = {}) {
  const r = await post(`${url}/db/execute?timeout=${timeoutS}s`, statements, timeoutS * 1000 + 5000);
  if (r.status !== 200 || r.text.includes('"error"')) throw new Error(`/db/execute answered ${r.status}: ${r.text.slice(0, 300)}`);
  return r.body.results;
}

/** rqlite /db/query of one statement; answers the rows, or undefined when the node does not answer it (yet). */
async function sqlQuery(url, sql, level = 'none', timeoutMs = 2000) {
  try {
    const r = await post(`${url}/db/query?level=${level}`, [sql], timeoutMs);
    if (r.status !== 200 || r.text.includes('"error"')) return undefined;
    return r.body.results[0].values ?? [];
  } catch {
    return undefined;
  }
}

/** This node's view of `group` from GET /v1/status, or undefined while it does not answer. */
async function groupStatus(url, group) {
  return (await getJson(`${url}/v1/status`))?.groups?.find((g) => g.group === group);
}

/** VmRSS and VmHWM (peak RSS) of a process, in bytes, from /proc/<pid>/status. */
function rssOf(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

/** Resets a process's VmHWM to its current RSS (Linux: "5" to clear_refs), so a later peak is that phase's. */
function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** CPU seconds (user + system) a process used so far, from /proc/<pid>/stat (clock ticks of 10 ms). */
function cpuOf(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime: fields 14 and 15 of stat
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------- clusters

/**
 * A 3-node cluster of `kind` ('kv' or 'sql') on free 127.0.0.1 ports, data under `work`. The
 * handle can kill and respawn single nodes with the same arguments, as an operator would.
 */
async function startCluster(kind, name, extraFlags = []) {
  const bin = kind === 'kv' ? KV_BIN : SQL_BIN;
  const ports = await freePorts(3);
  const peers = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  const dataDirs = ports.map((_, i) => join(work, name, `n${i + 1}`));
  const c = {
    kind,
    name,
    group: kind,
    urls: ports.map((p) => `http://127.0.0.1:${p}`),
    dataDirs,
    procs: [],
    spawn(i) {
      const args = [bin, '--id', String(i + 1), '--listen', `127.0.0.1:${ports[i]}`, '--peers', peers, '--data-dir', dataDirs[i], '--log-level', 'error', ...extraFlags];
      c.procs[i] = track(spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] }));
      return c.procs[i];
    },
    /** Sends `signal` to node i and waits for it to exit (SIGKILL after `graceMs`). */
    async stop(i, signal = 'SIGKILL', graceMs = 30_000) {
      const p = c.procs[i];
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill(signal);
      const t = setTimeout(() => p.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
    async stopAll(signal = 'SIGKILL') {
      await Promise.all(c.procs.map((_, i) => c.stop(i, signal)));
    },
    /** Stops every node and deletes the data, unless --keep. */
    async close() {
      await c.stopAll();
      if (!values.keep) rmSync(join(work, name), { recursive: true, force: true });
    },
    dbFile: (i) => join(dataDirs[i], 'machines', 'g_sql', 'sql.db'),
  };
  for (let i = 0; i < 3; i++) c.spawn(i);
  await leaderOf(c);
  return c;
}

/** Index of a node whose own status says it leads the cluster's group, waiting up to `timeoutMs`. */
async function leaderOf(c, timeoutMs = 60_000) {
  return waitFor(
    `a ${c.kind} leader`,
    timeoutMs,
    async () => {
      const st = await Promise.all(c.urls.map((u, i) => (c.procs[i]?.exitCode === null ? groupStatus(u, c.group) : undefined)));
      const i = st.findIndex((g) => g?.role === 'leader');
      return i >= 0 ? i : undefined;
    },
    100,
  );
}

/** Runs the load generator against a cluster and adds the CPU each node used during the run. */
async function load(c, spec, op, urls, conc, extra = []) {
  const pids = c.procs.map((p) => p.pid);
  const cpu0 = pids.map(cpuOf);
  const t0 = performance.now();
  const r = await runLoadgen(['--adapter', 'generic', '--spec', spec, '--url', urls.join(','), '--op', op, '-c', String(conc), '--keys', '10000', '--value-size', '256', ...extra]);
  const wall = (performance.now() - t0) / 1000;
  r.node_cpu_pct = pids.map((pid, i) => Math.round(((cpuOf(pid) - cpu0[i]) / wall) * 100));
  if (r.errors) log(`    ${r.errors} errors in ${r.label ?? op}, e.g. ${JSON.stringify(r.error_samples)}`);
  return r;
}
const timed = () => ['-t', String(seconds), '-n', '100000000', '--warmup', '1'];
const summary = (r) => ({ ops_per_s: r.ops_per_s, p50_ms: r.lat_ms.p50, p99_ms: r.lat_ms.p99, errors: r.errors, node_cpu_pct: r.node_cpu_pct });

// ---------------------------------------------------------------- SQL workload specs

const BATCH_ROWS = 100;
// A batch repeats the request's one {key}/{value} in its 100 tuples, so its table has no unique
// key (rows are told apart by their rowid): every tuple is a new row.
const SCHEMA = ['CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v TEXT)', 'CREATE TABLE IF NOT EXISTS b (k TEXT, v TEXT)'];
const SQL_SPEC = join(work, 'raftkit-sql.json');
writeFileSync(
  SQL_SPEC,
  JSON.stringify(
    {
      headers: { 'content-type': 'application/json' },
      followRedirects: false,
      // `expect` checks the success body: an SQLite error stands in a statement's place with HTTP 200.
      put: {
        method: 'POST',
        url: '{base}/db/execute',
        body: JSON.stringify([['INSERT OR REPLACE INTO t(k, v) VALUES(?, ?)', '{key}', '{value}']]),
        ok: [200],
        expect: '"rows_affected":1}',
      },
      batch: {
        method: 'POST',
        url: '{base}/db/execute',
        body: JSON.stringify([[`INSERT INTO b(k, v) VALUES ${Array(BATCH_ROWS).fill('(?, ?)').join(', ')}`, ...Array(BATCH_ROWS).fill(['{key}', '{value}']).flat()]]),
        ok: [200],
        expect: `"rows_affected":${BATCH_ROWS}}`,
      },
      select: { method: 'POST', url: '{base}/db/query?level=linearizable', body: JSON.stringify([['SELECT v FROM t WHERE k = ?', '{key}']]), ok: [200], expect: '"values":[["' },
    },
    null,
    2,
  ),
);

/** One request of each op by hand before any measured run, so a wrong body shows its real error. */
async function checkSqlOps(url) {
  const spec = JSON.parse(readFileSync(SQL_SPEC, 'utf8'));
  const fill = (s) => s.replaceAll('{key}', 'kcheck').replaceAll('{value}', 'v'.repeat(256));
  for (const op of ['put', 'batch', 'select']) {
    const s = spec[op];
    const r = await post(s.url.replace('{base}', url), JSON.parse(fill(s.body)));
    if (r.status !== 200 || !r.text.includes(s.expect)) fail(`the ${op} request fails: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  }
  await sqlExec(url, ["DELETE FROM b WHERE k = 'kcheck'", "DELETE FROM t WHERE k = 'kcheck'"]);
}

async function startSql(name, extraFlags = []) {
  const c = await startCluster('sql', name, extraFlags);
  await sqlExec(c.urls[await leaderOf(c)], SCHEMA);
  return c;
}

// ---------------------------------------------------------------- parts

const result = { bench: 'sql', date: new Date().toISOString(), node: process.version, seconds, rounds, value_bytes: 256, keys: 10000 };
const targets = [];
function target(name, figure, ok, detail) {
  targets.push({ name, figure, met: ok });
  log(`  ${mark(ok)}  ${name}: ${figure}${detail ? `  (${detail})` : ''}`);
}

/** Part 1: single-row inserts against KV puts, alternating systems per run so drift hits both alike. */
async function partInsert(kv, sql) {
  log(`\n[insert] single-row INSERT OR REPLACE vs raftkit-kv put, to the leader; ${rounds} rounds per level, systems alternating`);
  const rows = [];
  const kvLeader = kv.urls[await leaderOf(kv)];
  const sqlLeader = sql.urls[await leaderOf(sql)];
  for (const c of [1, 16, 64, 256]) {
    const runs = { kv: [], sql: [] };
    for (let r = 0; r < rounds; r++) {
      // Who goes first swaps every round, so neither always runs on the warmer (or cooler) machine.
      const order = r % 2 === 0 ? ['kv', 'sql'] : ['sql', 'kv'];
      for (const sys of order) {
        const x =
          sys === 'kv'
            ? await load(kv, KV_SPEC, 'put', [kvLeader], c, [...timed(), '--label', `kv put c${c}`])
            : await load(sql, SQL_SPEC, 'put', [sqlLeader], c, [...timed(), '--label', `sql insert c${c}`]);
        runs[sys].push(summary(x));
        log(
          `    c=${String(c).padStart(3)} round ${r + 1} ${sys.padEnd(3)} ${String(x.ops_per_s).padStart(6)} ops/s  p50 ${x.lat_ms.p50} ms  p99 ${x.lat_ms.p99} ms  node CPU % ${x.node_cpu_pct.join('/')}`,
        );
      }
    }
    const mk = median(runs.kv.map((x) => x.ops_per_s));
    const ms = median(runs.sql.map((x) => x.ops_per_s));
    const row = {
      concurrency: c,
      kv: runs.kv,
      sql: runs.sql,
      kv_median: mk,
      sql_median: ms,
      ratio: round(ms / mk),
      pair_ratios: runs.sql.map((x, i) => round(x.ops_per_s / runs.kv[i].ops_per_s)),
    };
    rows.push(row);
    log(`  c=${String(c).padStart(3)} median: sql ${fmt(ms)} / kv ${fmt(mk)} ops/s = ${row.ratio}x (per round ${row.pair_ratios.join(', ')})`);
  }
  result.insert = rows;
  const c64 = rows.find((r) => r.concurrency === 64);
  target('SQL insert c64 >= 80% of KV put c64', `${fmt(c64.sql_median)} / ${fmt(c64.kv_median)} = ${Math.round(c64.ratio * 100)}%`, c64.ratio >= 0.8);
}

/** Part 3: linearizable point reads on every node (ReadIndex on followers), KV gets for reference. */
async function partSelect(kv, sql) {
  log('\n[select] linearizable SELECT v FROM t WHERE k = ? at c64 over all 3 nodes (after a prefill of the 10,000 keys)');
  // Followers serve level=linearizable themselves (ReadIndex); check one does before trusting the spread.
  const sqlLeader = await leaderOf(sql);
  const follower = sql.urls[(sqlLeader + 1) % 3];
  const r = await post(`${follower}/db/query?level=linearizable`, [['SELECT 1']]);
  if (r.status !== 200 || r.text.includes('"error"')) fail(`a follower refuses level=linearizable: ${r.status} ${r.text.slice(0, 200)}`);
  const runs = { kv: [], sql: [] };
  for (let i = 0; i < Math.min(rounds, 2); i++) {
    const order = i % 2 === 0 ? ['kv', 'sql'] : ['sql', 'kv'];
    for (const sys of order) {
      // The prefill writes every key once, so each read finds its row (`expect` wants a value).
      const x =
        sys === 'kv'
          ? await load(kv, KV_SPEC, 'get', kv.urls, 64, [...timed(), '--prefill', '--label', 'kv get c64'])
          : await load(sql, SQL_SPEC, 'select', sql.urls, 64, [...timed(), '--prefill', '--label', 'sql select c64']);
      runs[sys].push(summary(x));
      log(`    round ${i + 1} ${sys.padEnd(3)} ${String(x.ops_per_s).padStart(6)} reads/s  p50 ${x.lat_ms.p50} ms  p99 ${x.lat_ms.p99} ms  node CPU % ${x.node_cpu_pct.join('/')}`);
    }
  }
  const ms = median(runs.sql.map((x) => x.ops_per_s));
  const mk = median(runs.kv.map((x) => x.ops_per_s));
  result.select = { concurrency: 64, nodes: 3, sql: runs.sql, kv: runs.kv, sql_median: ms, kv_median: mk, ratio: round(ms / mk) };
  log(`  median: sql ${fmt(ms)} / kv ${fmt(mk)} linearizable reads/s = ${round(ms / mk)}x (no target; for reference)`);
}

/** Part 2: 100-row INSERTs, one log entry each. */
async function partBatch(sql) {
  log(`\n[batch] one INSERT of ${BATCH_ROWS} VALUES tuples per /db/execute, to the leader`);
  const leader = sql.urls[await leaderOf(sql)];
  const rows = [];
  for (const c of [16, 64]) {
    const x = await load(sql, SQL_SPEC, 'batch', [leader], c, [...timed(), '--label', `sql batch c${c}`]);
    rows.push({
      concurrency: c,
      requests_per_s: x.ops_per_s,
      rows_per_s: x.ops_per_s * BATCH_ROWS,
      p50_ms: x.lat_ms.p50,
      p99_ms: x.lat_ms.p99,
      errors: x.errors,
      node_cpu_pct: x.node_cpu_pct,
    });
    log(
      `    c=${String(c).padStart(3)} ${fmt(x.ops_per_s)} requests/s = ${fmt(x.ops_per_s * BATCH_ROWS)} rows/s  p50 ${x.lat_ms.p50} ms  p99 ${x.lat_ms.p99} ms  node CPU % ${x.node_cpu_pct.join('/')}`,
    );
  }
  result.batch = rows;
  const best = Math.max(...rows.map((r) => r.rows_per_s));
  target('100-row batches >= 100,000 rows/s', `${fmt(best)} rows/s (best of c16/c64)`, best >= 100_000);
}

/**
 * Time from spawning node(s) until each serves a level=none read that sees `rows` rows (the
 * headline), and the other milestones on the way, each polled on its own: answers HTTP, /readyz
 * ok (knows a leader), applied index >= the leader's.
 */
async function timeRecovery(c, nodes, rows, leaderApplied) {
  const t0 = performance.now();
  for (const i of nodes) c.spawn(i);
  const ms = () => Math.round(performance.now() - t0);
  const per = await Promise.all(
    nodes.map(async (i) => {
      const url = c.urls[i];
      const at = async (what, probe) => {
        await waitFor(`node ${i + 1} ${what}`, 120_000, async () => ((await probe()) ? true : undefined), 20);
        return ms();
      };
      const [http_ms, readyz_ms, applied_ms, all_rows_ms] = await Promise.all([
        at('to answer HTTP', () => getJson(`${url}/healthz`, 500)),
        // rqlite's /readyz (plain text): 200 once the node knows a leader and its store answers.
        at('/readyz', async () => {
          const r = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
          if (r) await r.arrayBuffer();
          return r?.status === 200;
        }),
        at(`to apply index ${leaderApplied}`, async () => (await groupStatus(url, 'sql'))?.applied >= leaderApplied),
        // Rows are only appended, so max(rowid) is the row count, and cheap to ask (count(*) scans).
        at(`to see ${rows} rows`, async () => (await sqlQuery(url, 'SELECT max(rowid) FROM b'))?.[0]?.[0] >= rows),
      ]);
      return { node: i + 1, http_ms, readyz_ms, applied_ms, all_rows_ms, ready_and_applied_ms: Math.max(readyz_ms, applied_ms) };
    }),
  );
  return { nodes: per, all_rows_ms: Math.max(...per.map((p) => p.all_rows_ms)), ready_and_applied_ms: Math.max(...per.map((p) => p.ready_and_applied_ms)) };
}

/** Part 4: restart time with >= 1M rows (topped up with 100-row batches, each one log entry). */
async function partRestart(sql) {
  const want = 1_000_000;
  let leader = await leaderOf(sql);
  const rowsNow = async () => Number((await sqlQuery(sql.urls[leader], 'SELECT max(rowid) FROM b', 'weak', 30_000))?.[0]?.[0] ?? 0);
  let rows = await rowsNow();
  log(`\n[restart] ${fmt(rows)} rows in the batch table; topping up to ${fmt(want)} with ${BATCH_ROWS}-row requests at c64`);
  for (let attempt = 0; rows < want && attempt < 3; attempt++) {
    const n = Math.ceil((want - rows) / BATCH_ROWS);
    await load(sql, SQL_SPEC, 'batch', [sql.urls[leader]], 64, ['-n', String(n), '-t', '600', '--label', 'sql batch top-up']);
    rows = await rowsNow();
  }
  if (rows < want) fail(`could not reach ${want} rows (have ${rows})`);
  const count = Number((await sqlQuery(sql.urls[leader], 'SELECT count(*) FROM b', 'weak', 60_000))[0][0]);
  // Let the followers apply everything, so the leader's applied index is the whole log.
  const st = await groupStatus(sql.urls[leader], 'sql');
  await waitFor(
    'followers to catch up',
    120_000,
    async () => ((await Promise.all(sql.urls.map((u) => groupStatus(u, 'sql')))).every((g) => g?.applied >= st.applied) ? true : undefined),
    100,
  );
  const dbBytes = statSync(sql.dbFile(leader)).size;
  // A restart reads and verifies the whole raft log (entries kept since the last snapshot and
  // the retained tail): its size in bytes, more than the database's, is what a start costs.
  const f = (leader + 1) % 3;
  const fileBytes = (file) => (existsSync(file) ? statSync(file).size : 0);
  const raftBytes = fileBytes(join(sql.dataDirs[f], 'raft.db')) + fileBytes(join(sql.dataDirs[f], 'raft.db-wal'));
  const fst = await groupStatus(sql.urls[f], 'sql');
  const info = {
    rows: count,
    applied_index: st.applied,
    log_first_index: st.firstIndex,
    log_last_index: st.lastIndex,
    log_entries_held: st.lastIndex - st.firstIndex + 1,
    follower_log_entries_held: fst.lastIndex - fst.firstIndex + 1,
    follower_raft_db_bytes: raftBytes,
    db_bytes: dbBytes,
  };
  log(
    `  ${fmt(count)} rows; the database holds log entries 1..${fmt(st.applied)}; the leader's raft log holds ${fmt(info.log_entries_held)} (${fmt(st.firstIndex)}..${fmt(st.lastIndex)}); sql.db ${fmt(dbBytes / MiB)} MiB`,
  );
  log(`  follower ${f + 1} (restarted below): its raft log holds ${fmt(info.follower_log_entries_held)} entries, raft.db ${fmt(raftBytes / MiB)} MiB`);

  // kill -9 one follower, restart it with the same arguments.
  await sql.stop(f, 'SIGKILL');
  await sleep(500);
  const one = await timeRecovery(sql, [f], count, st.applied);
  const show = (n) => `HTTP ${n.http_ms} ms, level=none read sees all rows ${n.all_rows_ms} ms, /readyz ok ${n.readyz_ms} ms, applied = leader's ${n.applied_ms} ms`;
  log(`  follower ${f + 1} after kill -9: ${show(one.nodes[0])}`);

  // The whole cluster, stopped gracefully (SIGTERM) and started again.
  await sql.stopAll('SIGTERM');
  const all = await timeRecovery(sql, [0, 1, 2], count, st.applied);
  leader = await leaderOf(sql);
  for (const n of all.nodes) log(`  cluster after SIGTERM, node ${n.node}: ${show(n)}`);
  result.restart = { ...info, follower_kill9: one, cluster_sigterm: all };
  target(
    'restart (follower, kill -9) < 2 s',
    `${one.all_rows_ms} ms to a level=none read that sees all ${fmt(count)} rows; ${one.ready_and_applied_ms} ms to /readyz ok and the leader's applied index`,
    one.all_rows_ms < 2000,
  );
  target(
    'restart (whole cluster, SIGTERM) < 2 s',
    `${all.all_rows_ms} ms until every node serves all rows at level=none; ${all.ready_and_applied_ms} ms until every node is ready (needs an election) and applied`,
    all.all_rows_ms < 2000,
  );
}

/** Part 5: a follower's memory while it receives a snapshot of a large database. */
async function partSnapshot() {
  // --snapshot-entries 1000 keeps min(5000, 500) = 500 entries behind a snapshot: after 600 small
  // writes past F, a forced snapshot compacts the leader's log past F. No automatic snapshot
  // (which would copy the whole database on every node) comes in between: < 1000 entries in all.
  const SNAP_ENTRIES = 1000;
  const RETAINED = Math.min(5000, Math.ceil(SNAP_ENTRIES / 2));
  log(`\n[snapshot] fresh cluster (--snapshot-entries ${SNAP_ENTRIES}); a follower is down while the leader's database grows to ${snapshotGib} GiB`);
  const c = await startSql('snap', ['--snapshot-entries', String(SNAP_ENTRIES)]);
  try {
    const L = await leaderOf(c);
    const url = c.urls[L];
    await sqlExec(url, ['CREATE TABLE big (id INTEGER PRIMARY KEY, pad BLOB)']);
    await sleep(3000);
    const idle = c.procs.map((p) => rssOf(p.pid).rss);
    log(`  idle RSS: ${idle.map((x) => `${fmt(x / MiB)} MiB`).join(' / ')} (leader is node ${L + 1})`);
    const F = (L + 1) % 3;
    const fIndex = (await groupStatus(c.urls[F], 'sql')).applied;
    await c.stop(F, 'SIGKILL');

    // Fill through the log: each entry is one short statement whose effect is ~64 MiB
    // (randomblob is seeded by the entry, the same on every node). db_timeout is off by default;
    // the request's own `timeout` (30 s by default) is raised for slow applies.
    const ROWS_PER_CHUNK = 65_536;
    const chunks = Math.ceil((snapshotGib * 1024 * MiB) / (ROWS_PER_CHUNK * 1000));
    log(`  filling: ${chunks} entries of ${fmt(ROWS_PER_CHUNK)} rows x 1,000-byte blobs, one after the other ...`);
    const tFill = performance.now();
    for (let k = 0; k < chunks; k++) {
      await sqlExec(
        url,
        [
          `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < ${ROWS_PER_CHUNK}) INSERT INTO big(id, pad) SELECT ${k * ROWS_PER_CHUNK}+x, randomblob(1000) FROM c`,
        ],
        { timeoutS: 300 },
      );
    }
    const fillS = (performance.now() - tFill) / 1000;
    log(`  filled in ${round(fillS, 1)} s (${fmt((chunks * ROWS_PER_CHUNK * 1000) / MiB / fillS)} MiB/s of blobs)`);

    // Past the retained tail: enough small entries that compaction drops everything F has.
    const pad = RETAINED + 100;
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < pad) await sqlExec(url, [['INSERT OR REPLACE INTO t(k, v) VALUES(?, ?)', `pad${next++}`, 'x']]);
      }),
    );
    const tSnap = performance.now();
    const snap = await post(`${url}/v1/groups/sql/snapshot`, {}, 900_000);
    // The route answers within the server's fixed 10 s request timeout; a larger database is
    // still being copied then (503 timeout) and the snapshot goes on. Either way, the compaction
    // showing in the leader's status is what lets F's restart need the snapshot.
    const timedOut = snap.status === 503 && snap.body?.error === 'timeout';
    if (snap.status !== 200 && !timedOut) fail(`snapshot failed: ${snap.status} ${snap.text}`);
    if (timedOut) log('  (POST /v1/groups/sql/snapshot answered 503 timeout after 10 s; waiting for the compaction in /v1/status)');
    await waitFor("the leader's log to be compacted past F", 900_000, async () => ((await groupStatus(url, 'sql'))?.firstIndex > fIndex + 1 ? true : undefined), 100);
    const snapS = (performance.now() - tSnap) / 1000;
    for (let k = 0; k < 10; k++) await sqlExec(url, [['INSERT OR REPLACE INTO t(k, v) VALUES(?, ?)', `after${k}`, 'x']]);
    const lst = await groupStatus(url, 'sql');
    const snapDir = join(c.dataDirs[L], 'snapshots', 'g_sql');
    const snapFile = readdirSync(snapDir)
      .filter((n) => n.endsWith('.snap'))
      .map((n) => join(snapDir, n))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
    const snapBytes = statSync(snapFile).size;
    const dbBytes = statSync(c.dbFile(L)).size;
    const snapIndex = Number(snapFile.match(/(\d+)-\d+\.snap$/)[1]);
    log(
      `  snapshot at index ${snapIndex} in ${round(snapS, 1)} s: ${fmt(snapBytes / MiB)} MiB (sql.db ${fmt(dbBytes / MiB)} MiB); leader's log ${lst.firstIndex}..${lst.lastIndex}, F was at ${fIndex}`,
    );

    // Restart F; sample its RSS and the leader's every 50 ms until F applied the leader's index.
    const leaderPid = c.procs[L].pid;
    const leaderPeakReset = resetPeak(leaderPid);
    const leaderBase = rssOf(leaderPid).rss;
    const t0 = performance.now();
    const fp = c.spawn(F);
    let fMax = 0;
    let lMax = 0;
    const sampler = setInterval(() => {
      fMax = Math.max(fMax, rssOf(fp.pid).rss || 0);
      lMax = Math.max(lMax, rssOf(leaderPid).rss || 0);
    }, 50);
    try {
      await waitFor('F to install the snapshot and catch up', 900_000, async () => ((await groupStatus(c.urls[F], 'sql'))?.applied >= lst.applied ? true : undefined), 50);
    } finally {
      clearInterval(sampler);
    }
    const installMs = Math.round(performance.now() - t0);
    const fAt = rssOf(fp.pid);
    const lAt = rssOf(leaderPid);
    await sleep(2000);
    const fAfter = rssOf(fp.pid);
    const fPeak = Math.max(fAt.hwm, fMax);
    const lPeak = leaderPeakReset ? Math.max(lAt.hwm, lMax) : lMax;
    const rows = (await sqlQuery(c.urls[F], 'SELECT max(id) FROM big'))?.[0]?.[0];
    result.snapshot = {
      gib: snapshotGib,
      snapshot_index: snapIndex,
      snapshot_route_timed_out: timedOut,
      snapshot_bytes: snapBytes,
      db_bytes: dbBytes,
      rows: rows,
      fill_s: round(fillS, 1),
      snapshot_create_s: round(snapS, 1),
      transfer_install_ms: installMs,
      follower_idle_rss: idle[F],
      follower_peak_rss: fPeak,
      follower_peak_over_idle: fPeak - idle[F],
      follower_rss_after: fAfter.rss,
      follower_hwm_2s_after: fAfter.hwm,
      leader_idle_rss: idle[L],
      leader_rss_before_send: leaderBase,
      leader_peak_rss_sending: lPeak,
      leader_peak_measure: leaderPeakReset ? 'VmHWM reset at F spawn' : 'max of 50 ms samples',
    };
    log(
      `  F (node ${F + 1}): idle ${fmt(idle[F] / MiB)} MiB, peak ${fmt(fPeak / MiB)} MiB during install (+${fmt((fPeak - idle[F]) / MiB)} MiB), ${fmt(fAfter.rss / MiB)} MiB 2 s later; spawn -> caught up ${fmt(installMs)} ms; it holds ${fmt(rows)} rows of big`,
    );
    log(`  leader: idle ${fmt(idle[L] / MiB)} MiB, ${fmt(leaderBase / MiB)} MiB before sending, peak ${fmt(lPeak / MiB)} MiB while sending`);
    if (fAfter.hwm > fPeak) log(`  note: F's peak rose after it caught up, to ${fmt(fAfter.hwm / MiB)} MiB`);
    target(
      'follower peak RSS while installing the snapshot < idle + 200 MiB',
      `+${fmt((fPeak - idle[F]) / MiB)} MiB (${fmt(fPeak / MiB)} MiB peak, ${fmt(idle[F] / MiB)} MiB idle), ${fmt(snapBytes / MiB)} MiB snapshot`,
      fPeak - idle[F] < 200 * MiB,
    );
  } finally {
    await c.close();
  }
}

// ---------------------------------------------------------------- run

log(`bench:sql — 3-node clusters on 127.0.0.1, fsync on; ${seconds} s per level; parts: ${parts.join(', ')}; data in ${work}`);
const needKv = parts.includes('insert') || parts.includes('select');
const needSql = parts.some((p) => p !== 'snapshot');
const kv = needKv ? await startCluster('kv', 'kv') : undefined;
const sql = needSql ? await startSql('sql') : undefined;
if (sql) await checkSqlOps(sql.urls[await leaderOf(sql)]);
if (parts.includes('insert')) await partInsert(kv, sql);
if (parts.includes('select')) await partSelect(kv, sql);
if (kv) await kv.close(); // the KV cluster is only a yardstick for the first two parts
if (parts.includes('batch')) await partBatch(sql);
if (parts.includes('restart')) await partRestart(sql);
if (sql) await sql.close();
if (parts.includes('snapshot')) await partSnapshot();

result.targets = targets;
log('\ntargets:');
for (const t of targets) log(`  ${mark(t.met)}  ${t.name}: ${t.figure}`);
console.log(JSON.stringify(result));
for (const ch of children) ch.kill('SIGKILL');
process.exit(0);
