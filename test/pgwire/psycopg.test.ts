import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { runProgram, startTestServer, type TestServer } from './harness.js';

/** A Python interpreter that can import psycopg 3, if any. */
function findPython(): string | undefined {
  for (const python of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(python, ['-c', 'import psycopg'], { stdio: 'ignore' });
      return python;
    } catch {
      // Not this one.
    }
  }
  return undefined;
}

const python = findPython();

// Prints one JSON document with what psycopg decoded, in text and in binary format.
const SCRIPT = `
import json, sys, datetime, decimal, uuid
import psycopg
url = sys.argv[1]
out = {}
with psycopg.connect(url) as conn:
    q = """SELECT 42::INTEGER AS i, 9007199254740993::BIGINT AS big, -12345.678::DECIMAL(12,3) AS n,
      0.0001::DECIMAL(6,4) AS small, 1.5::DOUBLE AS f, true AS b, 'héllo' AS t,
      DATE '2024-05-06' AS d, TIME '01:02:03.5' AS tm, TIMESTAMP '2024-05-06 07:08:09.123456' AS ts,
      TIMESTAMPTZ '2024-05-06 07:08:09+00' AS tz, INTERVAL '1 day 02:03:04' AS iv,
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS u, '\\\\x00\\\\xFF'::BLOB AS by,
      '{"a": [1, 2]}'::JSON AS j, [1, NULL, 3]::INTEGER[] AS ia, ['x', 'y z']::VARCHAR[] AS ta"""
    for binary in (False, True):
        with conn.cursor(binary=binary) as cur:
            cur.execute(q)
            row = cur.fetchone()
            names = [c.name for c in cur.description]
            out['binary' if binary else 'text'] = {k: v.isoformat() if k == 'tz' else repr(v) for k, v in zip(names, row)}
    with conn.cursor() as cur:
        cur.execute("SELECT customer FROM shop.orders WHERE id = %s AND amount > %s", (2, decimal.Decimal("1.5")))
        out['param'] = cur.fetchone()[0]
        cur.execute("SELECT %s::DATE + 1 AS next", (datetime.date(2024, 2, 28),))
        out['date_param'] = str(cur.fetchone()[0])
    with conn.cursor(name="big") as cur:
        cur.itersize = 500
        cur.execute("SELECT i FROM range(5000) t(i)")
        out['server_cursor_sum'] = sum(r[0] for r in cur)
    conn.rollback()
    try:
        conn.execute("SELECT * FROM shop.missing")
    except psycopg.Error as e:
        out['error'] = e.sqlstate
        conn.rollback()
    out['after_error'] = conn.execute("SELECT 1").fetchone()[0]
print(json.dumps(out))
`;

describe('psycopg 3 against the wire server', {
  skip: python ? false : 'python3 with psycopg 3 is not installed (apt-get install python3-psycopg)',
}, () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    await t?.close();
  });

  test('decodes the common types in text and binary format, binds parameters, uses server cursors', async () => {
    const r = await runProgram(python as string, ['-c', SCRIPT, t.url('writer', 'w-secret')]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    const expected = {
      i: '42',
      big: '9007199254740993',
      n: "Decimal('-12345.678')",
      small: "Decimal('0.0001')",
      f: '1.5',
      b: 'True',
      t: "'héllo'",
      d: 'datetime.date(2024, 5, 6)',
      tm: 'datetime.time(1, 2, 3, 500000)',
      ts: 'datetime.datetime(2024, 5, 6, 7, 8, 9, 123456)',
      tz: '2024-05-06T07:08:09+00:00',
      iv: 'datetime.timedelta(days=1, seconds=7384)',
      u: "UUID('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')",
      by: "b'\\x00\\xff'",
      j: "{'a': [1, 2]}",
      ia: '[1, None, 3]',
      ta: "['x', 'y z']",
    };
    assert.deepEqual(out.text, expected);
    assert.deepEqual(out.binary, expected);
    assert.equal(out.param, 'bob');
    assert.equal(out.date_param, '2024-02-29');
    assert.equal(out.server_cursor_sum, (4999 * 5000) / 2);
    assert.equal(out.error, '42P01');
    assert.equal(out.after_error, 1);
  });
});
