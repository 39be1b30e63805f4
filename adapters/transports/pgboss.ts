/**
 * The `pgboss` transport: one pg-boss queue per route, in the same Postgres as the records, so a
 * page's messages and the replay cursor commit in one transaction (exactly once).
 */
import PgBoss from 'pg-boss';
import type pg from 'pg';
import type { Queryable } from '../database.ts';
import type { Logger } from '../logger.ts';
import type { OutgoingMessage, ReplayMessage } from '../route-queue.ts';
import {
  routeDestination,
  type BatchHandler,
  type PublishedMessage,
  type RouteMessage,
  type RouteReader,
  type RouteSubscription,
  type RouteTransport,
} from './port.ts';

function asPgBossDb(db: Queryable): PgBoss.Db {
  return { executeSql: (text, values) => db.query(text, values) };
}

function newBoss(pool: pg.Pool, schema: string, consume: boolean, logger?: Logger): PgBoss {
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
async function ensureQueue(boss: PgBoss, name: string): Promise<void> {
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

export class PgBossRouteReader implements RouteReader {
  readonly kind = 'pgboss' as const;
  #boss: PgBoss | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private readonly template: string,
    private readonly logger: Logger,
  ) {}

  /** Jobs in any state (queued, active, done, archived) of one execution. */
  async messagesOf<T extends RouteMessage = ReplayMessage>(
    route: string,
    executionId: string,
  ): Promise<PublishedMessage<T>[]> {
    const result = await this.pool.query<PublishedMessage<T>>(
      `SELECT id::text, state::text, data FROM ${this.schema}.job WHERE name = $1 AND data->>'execution_id' = $2
       UNION ALL
       SELECT id::text, state::text, data FROM ${this.schema}.archive WHERE name = $1 AND data->>'execution_id' = $2`,
      [routeDestination(this.template, route), executionId],
    );
    return result.rows;
  }

  /** A pg-boss worker with supervision (it expires jobs a crashed consumer held); jobs left unfinished are retried by pg-boss. */
  async consume(
    route: string,
    options: { batchSize: number },
    handle: BatchHandler,
  ): Promise<RouteSubscription> {
    const boss = await this.#started();
    const name = routeDestination(this.template, route);
    const inFlight = new Set<Promise<unknown>>();
    const worker: { id?: string } = {};
    const onError = (error: unknown) =>
      this.logger.error({ err: error, route }, 'route queue error (pg-boss retries on its own)');
    boss.on('error', onError);

    const handleBatch = async (jobs: PgBoss.Job<RouteMessage>[]) => {
      const done = await handle(jobs.map((job) => ({ id: job.id, data: job.data })));
      const completed = jobs.filter((_, index) => done[index]).map((job) => job.id);
      // pg-boss 10 completes a batch without awaiting the update; completing here first means that
      // the caller's count (and stop()) only covers messages whose completion is written. pg-boss's
      // own complete then finds them no longer active and changes nothing.
      if (completed.length > 0) await boss.complete(name, completed);
      // throwing fails the batch's jobs that are still active (only the unfinished ones): pg-boss retries them
      if (completed.length < jobs.length)
        throw new Error(`${jobs.length - completed.length} of ${jobs.length} messages failed`);
      // pg-boss 10 sleeps a polling interval (2 s) after every fetch, even a full one. After a full,
      // successful batch a notified worker fetches again at once, so a backlog drains at full speed;
      // after a failure the pause stays, so retries are not spent in a tight loop.
      if (jobs.length === options.batchSize && worker.id) boss.notifyWorker(worker.id);
    };

    await ensureQueue(boss, name);
    worker.id = await boss.work<RouteMessage>(name, { batchSize: options.batchSize }, (jobs) => {
      const running = handleBatch(jobs);
      inFlight.add(running);
      const untrack = () => inFlight.delete(running);
      running.then(untrack, untrack);
      return running;
    });

    let stopping: Promise<void> | undefined;
    const drain = async () => {
      await boss.offWork({ id: worker.id! });
      // The worker ends after the batch in hand; a fetch already under way may still deliver one more
      // batch, so wait until nothing has been in flight for a short quiet period.
      for (let quietChecks = 0; quietChecks < 3;) {
        if (inFlight.size > 0) {
          quietChecks = 0;
          await Promise.allSettled([...inFlight]);
        } else {
          quietChecks += 1;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      boss.off('error', onError);
    };
    return {
      // created or retry (states before `active`): messages no consumer holds yet
      idle: async () => inFlight.size === 0 && (await boss.getQueueSize(name, { before: 'active' })) === 0,
      stop: () => (stopping ??= drain()),
    };
  }

  async close(): Promise<void> {
    await this.#boss?.stop({ graceful: true, close: false, wait: true });
  }

  async #started(): Promise<PgBoss> {
    if (!this.#boss) {
      this.#boss = newBoss(this.pool, this.schema, true, this.logger);
      await this.#boss.start();
    }
    return this.#boss;
  }
}
