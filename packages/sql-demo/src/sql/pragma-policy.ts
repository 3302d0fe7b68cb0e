// Which PRAGMAs the store accepts. Most pragmas configure the node's connection or storage
// (journal_mode, synchronous, foreign_keys, ...): that state is not in the database file, so a
// snapshot does not carry it and nodes would drift apart, and some would break the store itself
// (writable_schema, wal_checkpoint, locking_mode). Only pragmas that read the schema, and the two
// values stored in the database file's header, are accepted.
import { isOperator, type Token } from './tokenizer.js';

/** Pragmas that only describe the database; their argument names a table or an index, never a setting. */
export const READ_ONLY_PRAGMAS: ReadonlySet<string> = new Set([
  'table_info',
  'table_xinfo',
  'table_list',
  'index_list',
  'index_info',
  'index_xinfo',
  'foreign_key_list',
  'foreign_key_check',
  'integrity_check',
  'quick_check',
]);

/** Values kept in the database file's header: reading them is a read, setting one is a replicated write. */
export const HEADER_PRAGMAS: ReadonlySet<string> = new Set(['user_version', 'application_id']);

export type PragmaVerdict = { kind: 'read' | 'write'; name: string } | { refused: string };

/** PRAGMA [schema.]name [= value | (value)], given the significant tokens after PRAGMA. */
export function judgePragma(tokens: readonly Token[]): PragmaVerdict {
  const qualified = isOperator(tokens[1], '.');
  const nameToken = qualified ? tokens[2] : tokens[0];
  if (!nameToken || (nameToken.kind !== 'word' && nameToken.kind !== 'quoted-identifier')) return { refused: 'PRAGMA needs a name' };
  const name = nameToken.value.toLowerCase();
  const hasValue = tokens.length > (qualified ? 3 : 1);
  if (READ_ONLY_PRAGMAS.has(name)) return { kind: 'read', name };
  if (HEADER_PRAGMAS.has(name)) return { kind: hasValue ? 'write' : 'read', name };
  const accepted = [...READ_ONLY_PRAGMAS, ...HEADER_PRAGMAS].join(', ');
  return {
    refused: `PRAGMA ${name} is not accepted: it configures this node's connection or storage, which snapshots do not carry and the store manages itself (accepted pragmas: ${accepted})`,
  };
}
