/**
 * The messages a route receives, whatever its transport (adapters/route-transport.ts), and the
 * migration of pg-boss's tables for the `pgboss` transport.
 */
import PgBoss from 'pg-boss';
import { createLogger } from './logger.ts';

/** The body of every message a replay publishes (docs/design.md section 5): a claim check on one stored object. */
export interface ReplayMessage {
  message_id: string;
  execution_id: string;
  parent_execution_id: string | null;
  root_execution_id: string;
  config_id: string;
  route: string;
  stage: string;
  replay: true;
  replay_source: 'storage' | 'lineage' | 'manual';
  object: { bucket: string; key: string; size: number; etag: string; last_modified: string };
  sequence: number;
  metadata: Record<string, unknown>;
}

/** The message a normal (non-replay) execution sends to its entry route. */
export interface InitMessage {
  message_id: string;
  execution_id: string;
  config_id: string;
  route: string;
  init: true;
  metadata: Record<string, unknown>;
}

export interface OutgoingMessage {
  id: string;
  route: string;
  body: ReplayMessage | InitMessage;
}

/** Creates or upgrades pg-boss's own tables in `schema` (run by the migration step). */
export async function migrateRouteQueue(connectionString: string, schema: string): Promise<void> {
  const boss = new PgBoss({
    connectionString,
    schema,
    migrate: true,
    supervise: false,
    schedule: false,
    max: 2,
  });
  boss.on('error', (error) =>
    createLogger('warn', { component: 'route-queue' }).warn({ err: error }, 'pg-boss migration error'),
  );
  await boss.start();
  await boss.stop({ graceful: false, close: true, wait: true });
}
