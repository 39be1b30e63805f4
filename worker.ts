/**
 * The worker process: wires Postgres, S3 and the route queue into the activities and polls the task
 * queue for replayExecution workflows. `npm run worker`, configured only by environment variables.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createReplayActivities } from './activities/index.ts';
import { loadConfigOrExit, type AppConfig } from './adapters/config.ts';
import { createPool } from './adapters/database.ts';
import { createLogger, type Logger } from './adapters/logger.ts';
import { ObjectStore, objectStoreOptionsFromConfig } from './adapters/object-store.ts';
import { RouteQueue } from './adapters/route-queue.ts';

export const workflowsPath = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

export interface ReplayWorkerHandle {
  worker: Worker;
  /** Runs until shutdown() (or a signal); then closes every resource. */
  run(): Promise<void>;
  shutdown(): void;
}

/** Builds a worker and its dependencies from the config. Tests pass a prebuilt workflow bundle. */
export async function createReplayWorker(
  config: AppConfig,
  options: { logger?: Logger; workflowBundle?: WorkerOptions['workflowBundle']; identity?: string } = {},
): Promise<ReplayWorkerHandle> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL, { process: 'worker' });
  const pool = createPool({
    url: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    poolMax: config.DATABASE_POOL_MAX,
    queryTimeoutMs: 60_000,
    applicationName: 'execution-replay-worker',
  });
  const objectStore = new ObjectStore({ ...objectStoreOptionsFromConfig(config), requestTimeoutMs: 30_000 });
  const routeQueue = new RouteQueue(pool, config.PGBOSS_SCHEMA);
  await routeQueue.start();
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
    activities: createReplayActivities({ pool, objectStore, routeQueue, logger }),
    maxConcurrentActivityTaskExecutions: 20,
  });
  return {
    worker,
    shutdown: () => worker.shutdown(),
    async run() {
      try {
        logger.info(
          { task_queue: config.TEMPORAL_TASK_QUEUE, temporal: config.TEMPORAL_ADDRESS },
          'worker started',
        );
        await worker.run();
      } finally {
        await routeQueue.stop().catch(() => {});
        await pool.end().catch(() => {});
        objectStore.close();
        await connection.close().catch(() => {});
        logger.info('worker stopped');
      }
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const config = loadConfigOrExit();
  Runtime.install({ shutdownSignals: ['SIGINT', 'SIGTERM'] });
  const handle = await createReplayWorker(config);
  await handle.run();
}
