/**
 * The worker process: wires Postgres, S3 and the route queue into the activities and polls the task
 * queue for replayExecution workflows. `npm run worker`, configured only by environment variables.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client, Connection, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createReconcileActivities, createReplayActivities } from './activities/index.ts';
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
  // the reconciler's activity describes workflows, which needs a client
  const clientConnection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const temporal = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE });
  await ensureReconcilerSchedule(temporal, config);
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
    activities: {
      ...createReplayActivities({ pool, objectStore, routeQueue, logger }),
      ...createReconcileActivities({ pool, temporal, logger }),
    },
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
        await clientConnection.close().catch(() => {});
        logger.info('worker stopped');
      }
    },
  };
}

export function reconcilerScheduleId(taskQueue: string): string {
  return `replay-reconciler-${taskQueue}`;
}

/** The reconciler runs as a Temporal Schedule (visible and pausable in the UI); created once, kept after. */
async function ensureReconcilerSchedule(temporal: Client, config: AppConfig): Promise<void> {
  try {
    await temporal.schedule.create({
      scheduleId: reconcilerScheduleId(config.TEMPORAL_TASK_QUEUE),
      spec: { intervals: [{ every: `${config.RECONCILE_INTERVAL_SECONDS}s` }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'reconcileReplays',
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const config = loadConfigOrExit();
  Runtime.install({ shutdownSignals: ['SIGINT', 'SIGTERM'] });
  const handle = await createReplayWorker(config);
  await handle.run();
}
