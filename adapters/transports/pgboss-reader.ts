/**
 * Reads the `pgboss` transport's queues back (adapters/transports/pgboss.ts writes them): for the
 * reference route consumer (scripts/route-consumer.ts), tests and operators.
 */
import type PgBoss from 'pg-boss';
import type pg from 'pg';
import type { Logger } from '../logger.ts';
import type { ReplayMessage } from '../route-queue.ts';
import { ensureQueue, newBoss } from './pgboss.ts';
import {
  routeDestination,
  type BatchHandler,
  type PublishedMessage,
  type RouteMessage,
  type RouteReader,
  type RouteSubscription,
} from './port.ts';
import { sleep } from '../sleep.ts';

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
          await sleep(100);
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
