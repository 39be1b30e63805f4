import PgBoss from 'pg-boss';
import type pg from 'pg';
import type { Queryable } from './database.ts';
import { createLogger, type Logger } from './logger.ts';

/** pg-boss reports its background failures as `error` events: logged, never thrown (nor swallowed). */
function logBossErrors(boss: PgBoss, logger: Logger = createLogger('warn', { component: 'route-queue' })) {
  boss.on('error', (error) => logger.warn({ err: error }, 'route queue (pg-boss) error'));
}

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

function asPgBossDb(db: Queryable): PgBoss.Db {
  return { executeSql: (text, values) => db.query(text, values) };
}

/**
 * The route queue: one pg-boss queue per route name, in the same Postgres as the records, so a
 * batch of messages and the replay cursor commit in one transaction.
 */
export class RouteQueue {
  readonly boss: PgBoss;
  readonly schema: string;

  constructor(pool: pg.Pool, schema: string, options: { consume?: boolean; logger?: Logger } = {}) {
    this.schema = schema;
    this.boss = new PgBoss({
      db: asPgBossDb(pool),
      schema,
      migrate: false,
      // only a consuming process needs pg-boss's supervision (expiry, retention) and timers
      supervise: options.consume ?? false,
      schedule: false,
    });
    logBossErrors(this.boss, options.logger);
  }

  start(): Promise<PgBoss> {
    return this.boss.start();
  }

  stop(): Promise<void> {
    return this.boss.stop({ graceful: true, close: false, wait: true });
  }

  /** Creates the route's queue unless it exists (safe under concurrent callers). */
  async ensureQueue(route: string): Promise<void> {
    if (await this.boss.getQueue(route)) return;
    try {
      await this.boss.createQueue(route);
    } catch (error) {
      if ((error as { code?: string }).code !== '23505') throw error;
    }
  }

  /** Inserts messages with their given ids; an id already present is skipped (ON CONFLICT DO NOTHING). */
  async insert(messages: OutgoingMessage[], db: Queryable): Promise<void> {
    if (messages.length === 0) return;
    await this.boss.insert(
      messages.map((message) => ({ id: message.id, name: message.route, data: message.body })),
      { db: asPgBossDb(db) },
    );
  }

  /** Every message of a route (queued, active, done or archived) for one execution: for tests and operators. */
  async messagesOf(
    db: Queryable,
    route: string,
    executionId: string,
  ): Promise<{ id: string; state: string; data: ReplayMessage }[]> {
    const result = await db.query(
      `SELECT id::text, state::text, data FROM ${this.schema}.job WHERE name = $1 AND data->>'execution_id' = $2
       UNION ALL
       SELECT id::text, state::text, data FROM ${this.schema}.archive WHERE name = $1 AND data->>'execution_id' = $2`,
      [route, executionId],
    );
    return result.rows;
  }
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
  logBossErrors(boss);
  await boss.start();
  await boss.stop({ graceful: false, close: true, wait: true });
}
