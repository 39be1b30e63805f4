/**
 * The reference route consumer, for route authors: how a route reads replay messages from its queue.
 *
 *   npm run route -- <route_name> [--once] [--json] [--batch-size N] [--group NAME]
 *
 * Configured by the same environment variables as the worker (DATABASE_URL, S3_*, ROUTE_TRANSPORT and
 * the transport's settings): it reads the route's pg-boss queue, Kafka topic (consumer group --group,
 * default `<KAFKA_CLIENT_ID>-route-<route>`) or SQS queue. With --once it stops when the route has
 * nothing left; with --json its last line on stdout is `{"processed": N, "distinct_ids": N}`
 * (processed - distinct_ids = duplicates it received). Each message is a claim check on one stored
 * object (docs/design.md section 5). For every message it:
 *   1. drops it (completes it without work) when the execution's route was cancelled;
 *   2. reads the object from S3;
 *   3. writes one output object under the NEW execution's folder, in the route's output stage, at the
 *      same path relative to the stage folder as the source object.
 * The "work" is a stand-in (a JSON line with the input's length) where a real route would compute
 * embeddings, segment documents, and so on. Writing to a deterministic key makes a redelivered or
 * duplicated message harmless: processing it again overwrites the same output. That is this route's
 * way of deduplicating by message id (README, "Delivery guarantees").
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type pg from 'pg';
import { loadConfigOrExit } from '../adapters/config.ts';
import { createPool } from '../adapters/database.ts';
import { createLogger, type Logger } from '../adapters/logger.ts';
import { ObjectStore, objectStoreOptionsFromConfig } from '../adapters/object-store.ts';
import { findRoute, getPipelineConfig, type RouteDefinition } from '../adapters/pipeline-configs.ts';
import type { ReplayMessage } from '../adapters/route-queue.ts';
import { createRouteReader } from '../adapters/route-reader.ts';
import type {
  PublishedMessage,
  RouteMessage,
  RouteReader,
  RouteSubscription,
} from '../adapters/route-transport.ts';
import { stageFolder } from '../adapters/storage-paths.ts';
import { sleep } from '../adapters/sleep.ts';

export interface RouteConsumerOptions {
  pool: pg.Pool;
  /** The route transport's reader (adapters/route-reader.ts), closed by the caller. */
  routeReader: RouteReader;
  objectStore: ObjectStore;
  route: string;
  logger: Logger;
  /** Messages fetched (and handled concurrently) per batch; default 10. */
  batchSize?: number;
  /** Kafka: the consumer group; default `<KAFKA_CLIENT_ID>-route-<route>`. */
  group?: string;
}

export interface RouteConsumer {
  /** Stops fetching, lets the batch in hand finish, and resolves once it is acknowledged. */
  stop(): Promise<void>;
  /** Messages handled and acknowledged so far (including dropped, init and duplicate deliveries). */
  processed(): number;
  /** Distinct message ids among them. */
  distinctIds(): number;
  /** True when the route has nothing waiting for this consumer and nothing is in hand. */
  idle(): Promise<boolean>;
}
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
  const { pool, routeReader, objectStore, route, logger } = options;
  const batchSize = options.batchSize ?? 10;
  // a config's routes do not change once registered: one lookup per config id
  const routeDefinitions = new Map<string, Promise<RouteDefinition>>();
  let processedCount = 0;
  const seenIds = new Set<string>();
  let stopping: Promise<void> | undefined;

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

  async function handleBatch(batch: PublishedMessage[]): Promise<boolean[]> {
    const cancelled = new Map<string, Promise<boolean>>();
    const results = await Promise.allSettled(batch.map((message) => handle(message.data, cancelled)));
    const done = results.map((result) => result.status === 'fulfilled');
    batch.forEach((message, index) => {
      if (done[index]) seenIds.add(message.id);
    });
    processedCount += done.filter(Boolean).length;
    const outcomes: Record<string, number> = {};
    for (const result of results) {
      const key = result.status === 'fulfilled' ? result.value : 'failed';
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
    logger.info({ route, batch: batch.length, ...outcomes, processed: processedCount }, 'batch handled');
    results.forEach((result, index) => {
      if (result.status === 'rejected')
        logger.warn(
          { err: result.reason, route, message_id: batch[index]!.id },
          'message failed; it will be delivered again',
        );
    });
    return done;
  }

  const subscription: RouteSubscription = await routeReader.consume(
    route,
    { batchSize, ...(options.group ? { group: options.group } : {}) },
    handleBatch,
  );
  logger.info({ route, transport: routeReader.kind, batch_size: batchSize }, 'route consumer started');

  return {
    stop: () =>
      (stopping ??= subscription
        .stop()
        .then(() =>
          logger.info(
            { route, processed: processedCount, distinct_ids: seenIds.size },
            'route consumer stopped',
          ),
        )),
    processed: () => processedCount,
    distinctIds: () => seenIds.size,
    idle: () => subscription.idle(),
  };
}

/** Resolves once the consumer has been idle (nothing waiting, nothing in hand) for `quietMs`. */
async function waitUntilIdle(consumer: RouteConsumer, quietMs: number): Promise<void> {
  let idleSince: number | undefined;
  for (;;) {
    if (await consumer.idle()) idleSince ??= Date.now();
    else idleSince = undefined;
    if (idleSince !== undefined && Date.now() - idleSince >= quietMs) return;
    await sleep(500);
  }
}

async function main(): Promise<void> {
  const usage = 'usage: npm run route -- <route_name> [--once] [--json] [--batch-size N] [--group NAME]';
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        once: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        'batch-size': { type: 'string' },
        group: { type: 'string' },
      },
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
  const routeReader = createRouteReader(config, pool, logger);

  let consumer: RouteConsumer | undefined;
  let closing: Promise<void> | undefined;
  const close = (reason: string) =>
    (closing ??= (async () => {
      logger.info({ reason }, 'stopping');
      await consumer?.stop();
      await routeReader.close().catch((error: unknown) => logger.warn({ err: error }, 'route reader close'));
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
    consumer = await startRouteConsumer({
      pool,
      routeReader,
      objectStore,
      route,
      logger,
      batchSize,
      ...(parsed.values.group ? { group: parsed.values.group } : {}),
    });
    if (parsed.values.once) {
      await waitUntilIdle(consumer, 2000);
      await close('route empty (--once)');
      const summary = { processed: consumer.processed(), distinct_ids: consumer.distinctIds() };
      logger.info(summary, 'done');
      // the last line on stdout, after every log line
      if (parsed.values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
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
