#!/usr/bin/env node
// raftkit-sql: one node of the replicated SQL store, speaking rqlite's HTTP API on its port next
// to raftkit's own. Every founding node gets the same --peers. `raftkit-sql shell ...` is the
// interactive shell instead.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { runRaftServer } from '@raftkit/framework/server';
import { sqlRoutes } from './http/sql-routes.js';
import { SqlDatabase } from './machine/sql-database.machine.js';
import { parseSqlFlags, SQL_FLAGS_HELP, SqlFlagError } from './sql-flags.js';

const NAME = 'raftkit-sql';
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'shell') {
    const { runShell } = await import('./shell/index.js');
    process.exitCode = await runShell(argv.slice(1));
    return;
  }
  let parsed: ReturnType<typeof parseSqlFlags>;
  try {
    parsed = parseSqlFlags(argv);
  } catch (e) {
    if (!(e instanceof SqlFlagError)) throw e;
    process.stderr.write(`${NAME}: ${e.message}\n`);
    process.exit(2);
  }
  const { flags, rest } = parsed;
  const machines = new Map<string, SqlDatabase>();
  await runRaftServer({
    name: NAME,
    argv: rest,
    machines: [SqlDatabase],
    groups: [{ name: 'sql', type: 'sql' }],
    instantiate: (_cls, group) => {
      const machine = new SqlDatabase({ maxQueryResultBytes: flags.maxResultBytes });
      machines.set(group, machine);
      return machine;
    },
    routes: sqlRoutes({ group: 'sql', machine: () => machines.get('sql'), limits: flags.limits, version: VERSION }),
    usage: `${SQL_FLAGS_HELP}

The group "sql" holds one SQLite database. rqlite's HTTP API on the same port:
  curl -XPOST 'http://HOST:PORT/db/execute?pretty' -H 'content-type: application/json' \\
    -d '[["INSERT INTO t(name) VALUES(?)", "fiona"]]'
  curl -G 'http://HOST:PORT/db/query' --data-urlencode 'q=SELECT * FROM t'
raftkit's API: POST /v1/groups/sql/commands/execute {"statements":["..."]}, .../queries/query.
${NAME} shell [--url http://HOST:PORT]   the interactive shell
`,
  });
}

await main(process.argv.slice(2));
