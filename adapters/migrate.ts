import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import { migrateRouteQueue } from './route-queue.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Applies the versioned migrations in adapters/migrations to `schema` (created if absent), then
 * installs or upgrades pg-boss's tables in `queueSchema`. Safe to run again: applied versions are skipped.
 */
export async function runMigrations(options: {
  databaseUrl: string;
  schema: string;
  queueSchema: string;
  log?: (line: string) => void;
}): Promise<void> {
  await runner({
    databaseUrl: options.databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'schema_migrations',
    schema: options.schema,
    createSchema: true,
    count: Infinity,
    singleTransaction: true,
    log: options.log ?? (() => {}),
  });
  await migrateRouteQueue(options.databaseUrl, options.queueSchema);
}
