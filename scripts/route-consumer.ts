/**
 * The reference route consumer, for route authors: how a route reads replay messages from its queue.
 *
 *   npm run route -- <route_name> [--once] [--batch-size N]
 *
 * Configured by the same environment variables as the worker (DATABASE_URL, PGBOSS_SCHEMA, S3_*, ...).
 * Each message is a claim check on one stored object (docs/design.md section 5). For every message it:
 *   1. drops it (completes it without work) when the execution's route was cancelled;
 *   2. reads the object from S3;
 *   3. writes one output object under the NEW execution's folder, in the route's output stage, at the
 *      same path relative to the stage folder as the source object.
 * The "work" is a stand-in (a JSON line with the input's length) where a real route would compute
 * embeddings, segment documents, and so on. Writing to a deterministic key makes a redelivered
 * message harmless: processing it again overwrites the same output.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type PgBoss from 'pg-boss';
import type pg from 'pg';
import { loadConfigOrExit } from '../adapters/config.ts';
import { createPool } from '../adapters/database.ts';
import { createLogger, type Logger } from '../adapters/logger.ts';
import { ObjectStore, objectStoreOptionsFromConfig } from '../adapters/object-store.ts';
import { findRoute, getPipelineConfig, type RouteDefinition } from '../adapters/pipeline-configs.ts';
import { RouteQueue, type InitMessage, type ReplayMessage } from '../adapters/route-queue.ts';
import { stageFolder } from '../adapters/storage-paths.ts';

export interface RouteConsumerOptions {
  pool: pg.Pool;
  /** Started by the caller; built with `{ consume: true }` so pg-boss expires jobs of a crashed consumer. */
  routeQueue: RouteQueue;
  objectStore: ObjectStore;
  route: string;
  logger: Logger;
  /** Messages fetched (and handled concurrently) per batch; default 10. */
  batchSize?: number;
}

export interface RouteConsumer {
  /** Stops fetching, lets the batch in hand finish, and resolves once it is recorded. */
  stop(): Promise<void>;
  /** Messages handled and completed so far (including dropped and init messages). */
  processed(): number;
}

type RouteMessage = ReplayMessage | InitMessage;
type Outcome = 'written' | 'read' | 'dropped' | 'init';

/** The output a reference route writes: obviously a stand-in for real work (embeddings, ...). */
export interface ReferenceOutput {
  source_key: string;
  route: string;
  execution_id: string;
  sequence: number;
  length: number;
}

/**
 * The source key's path relative to its stage folder: `{prefix}{execution_id}/{stage}/{path}` -> `{path}`.
 * The source execution is the parent (or, for `lineage`, an ancestor), so it is read from the key.
 */
export function pathInStage(prefix: string, stage: string, key: string): string {
  const afterPrefix = key.startsWith(prefix) ? key.slice(prefix.length) : undefined;
  const slash = afterPrefix?.indexOf('/') ?? -1;
  const afterExecution = slash > 0 ? afterPrefix!.slice(slash + 1) : undefined;
  if (!afterExecution?.startsWith(`${stage}/`) || afterExecution.length === stage.length + 1) {
    throw new Error(`object key '${key}' is not under a '${stage}' stage folder of prefix '${prefix}'`);
  }
  return afterExecution.slice(stage.length + 1);
}

export async function startRouteConsumer(options: RouteConsumerOptions): Promise<RouteConsumer> {
  const { pool, routeQueue, objectStore, route, logger } = options;
  const boss = routeQueue.boss;
  const batchSize = options.batchSize ?? 10;
  // a config's routes do not change once registered: one lookup per config id
  const routeDefinitions = new Map<string, Promise<RouteDefinition>>();
  const inFlight = new Set<Promise<unknown>>();
  let processedCount = 0;
  let stopping: Promise<void> | undefined;
  const worker: { id?: string } = {};

  const onError = (error: unknown) =>
    logger.error({ err: error, route }, 'route queue error (pg-boss retries on its own)');
  boss.on('error', onError);

  function routeDefinition(configId: string): Promise<RouteDefinition> {
    let cached = routeDefinitions.get(configId);
    if (!cached) {
      cached = getPipelineConfig(pool, configId).then((config) => {
        if (!config) throw new Error(`pipeline config ${configId} not found`);
        const definition = findRoute(config, route);
        if (!definition) throw new Error(`route '${route}' is not a route of pipeline config ${configId}`);
        return definition;
      });
      cached.catch(() => routeDefinitions.delete(configId));
      routeDefinitions.set(configId, cached);
    }
    return cached;
  }

  /** Whether the execution's route was cancelled: its messages are dropped (docs/design.md section 5). */
  async function isCancelled(executionId: string): Promise<boolean> {
    const result = await pool.query<{ status: string }>(
      'SELECT status FROM execution_routes WHERE execution_id = $1 AND route = $2',
      [executionId, route],
    );
    return result.rows[0]?.status === 'cancelled';
  }

  async function handle(message: RouteMessage, cancelled: Map<string, Promise<boolean>>): Promise<Outcome> {
    const log = logger.child({ route, execution_id: message.execution_id, message_id: message.message_id });
    if ('init' in message && message.init) {
      // a normal execution's kick-off: a real entry route would start reading its input here
      log.info('init message of a normal execution');
      return 'init';
    }
    const replay = message as ReplayMessage;
    let check = cancelled.get(replay.execution_id);
    if (!check) {
      check = isCancelled(replay.execution_id);
      cancelled.set(replay.execution_id, check);
    }
    if (await check) {
      log.info({ source_key: replay.object.key }, 'execution cancelled: message dropped');
      return 'dropped';
    }
    if (replay.object.bucket !== objectStore.bucket) {
      throw new Error(
        `message points to bucket '${replay.object.bucket}', this consumer reads '${objectStore.bucket}'`,
      );
    }
    const definition = await routeDefinition(replay.config_id);
    const text = await objectStore.getObjectText(replay.object.key);
    if (definition.output_stage === null) {
      log.debug({ source_key: replay.object.key, length: text.length }, 'read (route has no output stage)');
      return 'read';
    }
    const outputKey =
      stageFolder(objectStore.prefix, replay.execution_id, definition.output_stage) +
      pathInStage(objectStore.prefix, replay.stage, replay.object.key);
    const output: ReferenceOutput = {
      source_key: replay.object.key,
      route,
      execution_id: replay.execution_id,
      sequence: replay.sequence,
      length: text.length,
    };
    await objectStore.putObject(outputKey, JSON.stringify(output));
    log.debug({ source_key: replay.object.key, output_key: outputKey }, 'output written');
    return 'written';
  }

  async function handleBatch(jobs: PgBoss.Job<RouteMessage>[]): Promise<void> {
    const cancelled = new Map<string, Promise<boolean>>();
    const results = await Promise.allSettled(jobs.map((job) => handle(job.data, cancelled)));
    const done = jobs.filter((_, index) => results[index]!.status === 'fulfilled').map((job) => job.id);
    // pg-boss 10 completes a batch without awaiting the update; completing here first means that
    // processed() (and stop()) only count messages whose completion is written. pg-boss's own
    // complete then finds them no longer active and changes nothing.
    if (done.length > 0) await boss.complete(route, done);
    processedCount += done.length;
    const outcomes: Record<string, number> = {};
    for (const result of results) {
      const key = result.status === 'fulfilled' ? result.value : 'failed';
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
    logger.info({ route, batch: jobs.length, ...outcomes, processed: processedCount }, 'batch handled');
    const failures = results.flatMap((result, index) =>
      result.status === 'rejected' ? [{ job: jobs[index]!, reason: result.reason as unknown }] : [],
    );
    if (failures.length > 0) {
      for (const { job, reason } of failures) {
        logger.warn({ err: reason, route, message_id: job.id }, 'message failed; pg-boss will retry it');
      }
      // throwing fails the batch's jobs that are still active (only the failed ones): pg-boss retries them
      throw new AggregateError(
        failures.map((failure) => failure.reason),
        `${failures.length} of ${jobs.length} messages failed`,
      );
    }
    // pg-boss 10 sleeps a polling interval (2 s) after every fetch, even a full one. After a full,
    // successful batch a notified worker fetches again at once, so a backlog drains at full speed; after
    // a failure the pause stays, so retries are not spent in a tight loop.
    if (jobs.length === batchSize && worker.id) boss.notifyWorker(worker.id);
  }

  await routeQueue.ensureQueue(route);
  const workerId = await boss.work<RouteMessage>(route, { batchSize }, (jobs) => {
    const running = handleBatch(jobs);
    inFlight.add(running);
    const untrack = () => inFlight.delete(running);
    running.then(untrack, untrack);
    return running;
  });
  worker.id = workerId;
  logger.info({ route, batch_size: batchSize }, 'route consumer started');

  async function drain(): Promise<void> {
    await boss.offWork({ id: workerId });
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
    logger.info({ route, processed: processedCount }, 'route consumer stopped');
  }

  return {
    stop: () => (stopping ??= drain()),
    processed: () => processedCount,
  };
}

/** Resolves once the route's queue has had nothing waiting and nothing in hand for `quietMs`. */
async function waitUntilQueueEmpty(routeQueue: RouteQueue, route: string, quietMs: number): Promise<void> {
  let emptySince: number | undefined;
  for (;;) {
    // created or retry (states before `active`): messages no consumer holds yet
    const waiting = await routeQueue.boss.getQueueSize(route, { before: 'active' });
    if (waiting > 0) emptySince = undefined;
    else emptySince ??= Date.now();
    if (emptySince !== undefined && Date.now() - emptySince >= quietMs) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function main(): Promise<void> {
  const usage = 'usage: npm run route -- <route_name> [--once] [--batch-size N]';
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { once: { type: 'boolean', default: false }, 'batch-size': { type: 'string' } },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${usage}\n`);
    process.exit(2);
  }
  const route = parsed.positionals[0];
  const batchSize = parsed.values['batch-size'] === undefined ? 10 : Number(parsed.values['batch-size']);
  if (!route || parsed.positionals.length > 1 || !Number.isInteger(batchSize) || batchSize < 1) {
    process.stderr.write(`${usage}\n`);
    process.exit(2);
  }

  const config = loadConfigOrExit();
  const logger = createLogger(config.LOG_LEVEL, { process: 'route-consumer' });
  const pool = createPool({
    url: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    poolMax: config.DATABASE_POOL_MAX,
    queryTimeoutMs: 60_000,
    applicationName: `route-consumer-${route}`.slice(0, 63),
  });
  const objectStore = new ObjectStore(objectStoreOptionsFromConfig(config));
  const routeQueue = new RouteQueue(pool, config.PGBOSS_SCHEMA, { consume: true });

  let consumer: RouteConsumer | undefined;
  let closing: Promise<void> | undefined;
  const close = (reason: string) =>
    (closing ??= (async () => {
      logger.info({ reason }, 'stopping');
      await consumer?.stop();
      await routeQueue.stop().catch((error: unknown) => logger.warn({ err: error }, 'route queue stop'));
      await pool.end().catch(() => {});
      objectStore.close();
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      close(signal).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }

  try {
    await routeQueue.start();
    consumer = await startRouteConsumer({ pool, routeQueue, objectStore, route, logger, batchSize });
    if (parsed.values.once) {
      await waitUntilQueueEmpty(routeQueue, route, 2000);
      await close('queue empty (--once)');
      logger.info({ processed: consumer.processed() }, 'done');
      process.exit(0);
    }
  } catch (error) {
    logger.error({ err: error }, 'route consumer failed');
    await close('error').catch(() => {});
    process.exit(1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
