/**
 * The `error` events of the Postgres pool and of pg-boss are logged, not swallowed: a lost idle
 * connection or a failing queue maintenance leaves a warning. No service: the events are emitted.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createPool } from '../../adapters/database.ts';
import { PgBossTransport } from '../../adapters/transports/pgboss.ts';

function capturingLogger() {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')));
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

describe('error events', () => {
  it('of the pool and of the route queue become warnings with the error', async () => {
    const { lines, logger } = capturingLogger();
    const pool = createPool({
      url: 'postgres://replay@127.0.0.1:1/unused',
      schema: 'public',
      poolMax: 1,
      applicationName: 'error-events-test',
      logger,
    });
    const queue = new PgBossTransport(pool, 'pgboss', '{route}', logger);
    try {
      pool.emit('error', new Error('terminating connection due to administrator command'));
      queue.boss.emit('error', new Error('maintenance failed'));
      await new Promise((resolve) => setImmediate(resolve));
      expect(lines.map((line) => [line.level, line.msg, line.err?.message])).toEqual([
        [40, 'idle Postgres connection lost', 'terminating connection due to administrator command'],
        [40, 'route queue (pg-boss) error', 'maintenance failed'],
      ]);
    } finally {
      await pool.end();
    }
  });
});
