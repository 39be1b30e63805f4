import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import { migrateRouteQueue } from './route-queue.ts';
import { sleep } from './sleep.ts';

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
  // node-pg-migrate holds one advisory lock per database: concurrent migrators (two deployments
  // starting together, parallel test files) wait their turn instead of failing
  for (let attempt = 1; ; attempt += 1) {
    try {
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
      break;
    } catch (error) {
      if (!/Another migration is already running/.test((error as Error).message) || attempt >= 120)
        throw error;
      await sleep(250 + Math.random() * 250);
    }
  }
  await migrateRouteQueue(options.databaseUrl, options.queueSchema);
}
