import pg from 'pg';
import { createLogger, type Logger } from './logger.ts';

export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

export interface DatabaseOptions {
  url: string;
  schema: string;
  poolMax: number;
  /** Bounds every query (and the wait for a connection), so a dead database means an error, not a hang. */
  queryTimeoutMs?: number;
  applicationName: string;
  /** Where the pool's errors go; a logger of warnings on stdout when left out. */
  logger?: Logger;
}

// bigint counters fit in a JS number for any realistic replay (< 2^53)
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function createPool(options: DatabaseOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    application_name: options.applicationName,
    options: `-c search_path=${options.schema},public`,
    connectionTimeoutMillis: options.queryTimeoutMs ?? 10_000,
    query_timeout: options.queryTimeoutMs,
  });
  // an idle client losing its connection (Postgres restarted) must not crash the process; the pool
  // replaces it, and the log says it happened
  const logger = options.logger ?? createLogger('warn', { component: 'postgres-pool' });
  pool.on('error', (error) =>
    logger.warn({ err: error, application: options.applicationName }, 'idle Postgres connection lost'),
  );
  return pool;
}

export async function withTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  // a checked-out client whose connection dies (Postgres restarted mid-transaction) also emits
  // 'error', which the pool no longer listens to: without a listener it would crash the process.
  // The query in flight rejects as well, and that is the error the caller gets.
  let broken: Error | undefined;
  const onError = (error: Error) => (broken = error);
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.off('error', onError);
    // a broken connection is destroyed rather than handed to the next caller
    client.release(broken);
  }
}

/** A round trip to the database, for readiness checks. */
export async function pingDatabase(db: Queryable): Promise<void> {
  await db.query('SELECT 1');
}

/** An error Postgres answered (a SQLSTATE), as opposed to one of the connection or of our code. */
export function isDatabaseError(error: unknown): boolean {
  return error instanceof pg.DatabaseError;
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const pgError = error as { code?: string; constraint?: string };
  return pgError?.code === '23505' && (constraint === undefined || pgError.constraint === constraint);
}
