import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../src/observe/index.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

test('log lines are JSON with fields, and secrets never reach the output', () => {
  const { stream, lines } = capture();
  const log = createLogger({ level: 'debug', stream });
  const child = log.child({ component: 'metastore' });
  child.info({ url: 'postgres://app:hunter2@db/lake', password: 'pw-123', rows: 5 }, 'opened');
  child.warn('retrying with token=abcdef');
  child.error({ err: new Error('cannot reach postgres://app:hunter2@db:5432/lake') }, 'failed');

  const text = JSON.stringify(lines());
  for (const secret of ['hunter2', 'pw-123', 'abcdef'])
    assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  const [first, second, third] = lines();
  assert.equal(first?.component, 'metastore');
  assert.equal(first?.rows, 5);
  assert.equal(first?.msg, 'opened');
  assert.equal(first?.url, 'postgres://app:***@db/lake');
  assert.equal(second?.msg, 'retrying with token=***');
  assert.match(
    String((third?.err as { message?: string } | undefined)?.message),
    /postgres:\/\/app:\*\*\*@db:5432\/lake/,
  );
});

test('log level filters and a log file receives JSON lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-log-'));
  try {
    const file = join(dir, 'logs', 'sluice.log');
    const log = createLogger({ level: 'warn', file, stderr: false });
    log.info('hidden');
    log.warn({ table: 'shop.orders' }, 'shown');
    await new Promise<void>((resolve) => log.flush(() => resolve()));
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1);
    assert.equal(JSON.parse(lines[0] ?? '{}').table, 'shop.orders');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
