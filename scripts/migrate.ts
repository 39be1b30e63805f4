/** `npm run migrate`: applies database migrations for the configured DATABASE_URL and schemas. */
import { loadConfigOrExit } from '../adapters/config.ts';
import { runMigrations } from '../adapters/migrate.ts';

const config = loadConfigOrExit();
await runMigrations({
  databaseUrl: config.DATABASE_URL,
  schema: config.DATABASE_SCHEMA,
  queueSchema: config.PGBOSS_SCHEMA,
  log: (line) => process.stdout.write(`${line}\n`),
});
process.stdout.write(
  `migrations applied (schema ${config.DATABASE_SCHEMA}, queue schema ${config.PGBOSS_SCHEMA})\n`,
);
