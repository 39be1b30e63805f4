/**
 * The messages a route receives, whatever its transport (adapters/route-transport.ts), and the
 * migration of pg-boss's tables for the `pgboss` transport.
 */
import PgBoss from 'pg-boss';
import type { ReplayMessage } from '../domain/replay-message.ts';
import { createLogger } from './logger.ts';

/** The body of every message a replay publishes: built by domain/replay-message.ts. */
export type { ReplayMessage } from '../domain/replay-message.ts';

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
