// better-sqlite3 for the tests. It is installed for @raftkit/framework (packages/framework/
// node_modules) and not hoisted to the root, so it is resolved from the framework's package: that
// works before and after an npm install adds it to this package too, and loads the same binary.
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

const fromFramework = createRequire(createRequire(import.meta.url).resolve('@raftkit/framework/package.json'));
const Database = fromFramework('better-sqlite3') as typeof BetterSqlite3;

export type Db = BetterSqlite3.Database;

export function openMemoryDatabase(): Db {
  return new Database(':memory:');
}
