import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SqlValue } from '../../src/client/index.js';
import { renderRows } from '../../src/shell/index.js';
import { displayWidth } from '../../src/shell/render/display-width.js';

const columns = ['id', 'name', 'score', 'pic'];
const values: SqlValue[][] = [
  [1n, 'fiona', 2, new Uint8Array([1, 2, 255])],
  [9223372036854775807n, null, 1.5, null],
];
const o = { nullValue: 'NULL', headers: true };

test('table mode: boxed, header, numbers right-aligned, NULL, REAL with a fraction, BLOB as X literal', () => {
  assert.equal(
    renderRows('table', columns, values, o),
    [
      '+---------------------+-------+-------+-----------+',
      '| id                  | name  | score | pic       |',
      '+---------------------+-------+-------+-----------+',
      "|                   1 | fiona |   2.0 | X'0102FF' |",
      '| 9223372036854775807 | NULL  |   1.5 | NULL      |',
      '+---------------------+-------+-------+-----------+',
      '',
    ].join('\n'),
  );
});

test('table mode without rows is the header alone', () => {
  assert.equal(renderRows('table', ['a'], [], o), '+---+\n| a |\n+---+\n');
});

test('column mode: sqlite3 header and dashes; .headers off drops them', () => {
  assert.equal(renderRows('column', ['a', 'bb'], [[1n, 'x']], o), 'a  bb\n-  --\n1  x\n');
  assert.equal(renderRows('column', ['a', 'bb'], [[1n, 'x']], { ...o, headers: false }), '1  x\n');
});

test('line mode: names right-aligned, a blank line between rows', () => {
  assert.equal(
    renderRows(
      'line',
      ['id', 'name'],
      [
        [1n, 'a'],
        [2n, null],
      ],
      { ...o, nullValue: '' },
    ),
    '  id = 1\nname = a\n\n  id = 2\nname = \n',
  );
});

test('csv: RFC 4180 quoting, NULL empty, header first', () => {
  assert.equal(
    renderRows(
      'csv',
      ['a', 'b'],
      [
        ['x,y', 'say "hi"'],
        [null, 'two\nlines'],
      ],
      o,
    ),
    'a,b\n"x,y","say ""hi"""\n,"two\nlines"\n',
  );
});

test('json: one object per row, 64-bit integers exact, BLOBs as hex literals', () => {
  assert.equal(renderRows('json', columns, values, o), `[{"id":1,"name":"fiona","score":2,"pic":"X'0102FF'"},\n{"id":9223372036854775807,"name":null,"score":1.5,"pic":null}]\n`);
  assert.equal(renderRows('json', ['a'], [], o), '[]\n');
});

test('wide characters take two columns and control characters are escaped, so tables stay aligned', () => {
  assert.equal(displayWidth('日本語'), 6);
  assert.equal(displayWidth('e\u0301'), 1);
  assert.equal(renderRows('table', ['t'], [['日本'], ['a\tb\nc']], o), ['+---------+', '| t       |', '+---------+', '| 日本    |', '| a\\tb\\nc |', '+---------+', ''].join('\n'));
});
