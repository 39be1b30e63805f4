/**
 * The `pgboss` transport: one pg-boss queue per route, in the same Postgres as the records, so a
 * page's messages and the replay cursor commit in one transaction (exactly once).
 */
import PgBoss from 'pg-boss';
import type pg from 'pg';
import type { Queryable } from '../database.ts';
import type { Logger } from '../logger.ts';
import type { OutgoingMessage } from '../route-queue.ts';
import { routeDestination, type RouteTransport } from './port.ts';

function asPgBossDb(db: Queryable): PgBoss.Db {
  return { executeSql: (text, values) => db.query(text, values) };
}

export function newBoss(pool: pg.Pool, schema: string, consume: boolean, logger?: Logger): PgBoss {
  const boss = new PgBoss({
    db: asPgBossDb(pool),
    schema,
    migrate: false,
    // only a consuming process needs pg-boss's supervision (expiry, retention) and timers
    supervise: consume,
    schedule: false,
  });
  // pg-boss reports its background failures as `error` events: logged, never thrown (nor swallowed)
  boss.on('error', (error) => logger?.warn({ err: error }, 'route queue (pg-boss) error'));
  return boss;
}

/** Creates the queue unless it exists (safe under concurrent callers). */
export async function ensureQueue(boss: PgBoss, name: string): Promise<void> {
  if (await boss.getQueue(name)) return;
  try {
    await boss.createQueue(name);
  } catch (error) {
    if ((error as { code?: string }).code !== '23505') throw error;
  }
}

export class PgBossTransport implements RouteTransport {
  readonly kind = 'pgboss' as const;
  readonly transactional = true;
  readonly boss: PgBoss;
  /** Routes whose queue this process has made sure of. */
  readonly #ready = new Set<string>();

  constructor(
    pool: pg.Pool,
    readonly schema: string,
    private readonly template: string,
    logger?: Logger,
  ) {
    this.boss = newBoss(pool, schema, false, logger);
  }

  async start(): Promise<void> {
    await this.boss.start();
  }

  close(): Promise<void> {
    return this.boss.stop({ graceful: true, close: false, wait: true });
  }

  /** Made sure of once per process; a failed insert forgets its routes, so the next start asks again. */
  async ensureRoute(route: string): Promise<void> {
    if (this.#ready.has(route)) return;
    await ensureQueue(this.boss, routeDestination(this.template, route));
    this.#ready.add(route);
  }

  /** Inserts the jobs, with the message ids as job ids, in `db`'s transaction; an id already there is skipped. */
  async publish(messages: OutgoingMessage[], db: Queryable): Promise<void> {
    if (messages.length === 0) return;
    try {
      await this.boss.insert(
        messages.map((message) => ({
          id: message.id,
          name: routeDestination(this.template, message.route),
          data: message.body,
        })),
        { db: asPgBossDb(db) },
      );
    } catch (error) {
      for (const message of messages) this.#ready.delete(message.route);
      throw error;
    }
  }
}
