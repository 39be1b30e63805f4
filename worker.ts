/**
 * The worker process: wires Postgres, S3 and the route transport (ROUTE_TRANSPORT) into the activities and polls the task
 * queue for replayExecution workflows. `npm run worker`, configured only by environment variables.
 */
import type { Server } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client, Connection, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import {
  NativeConnection,
  Runtime,
  Worker,
  type ActivityInterceptorsFactory,
  type WorkerOptions,
} from '@temporalio/worker';
import { createReconcileActivities, createReplayActivities } from './activities/index.ts';
import { loadConfigOrExit, type AppConfig } from './adapters/config.ts';
import { createPool } from './adapters/database.ts';
import { createLogger, type Logger } from './adapters/logger.ts';
import {
  activityFailureMetrics,
  enableProcessMetrics,
  metricsServerUrl,
  startMetricsServer,
} from './adapters/metrics.ts';
import { ObjectStore, objectStoreOptionsFromConfig } from './adapters/object-store.ts';
import { createRouteTransport } from './adapters/route-transport.ts';
import { initTracing, temporalWorkerTracing } from './adapters/tracing.ts';

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
  options: {
    logger?: Logger;
    workflowBundle?: WorkerOptions['workflowBundle'];
    identity?: string;
    /** Serves this process's Prometheus metrics on GET /metrics at this port (0: any free port). */
    metricsPort?: number;
  } = {},
): Promise<ReplayWorkerHandle> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL, { process: 'worker' });
  // traces, when initTracing() turned them on: activity spans always; workflow spans when the
  // workflows are bundled here (a prebuilt bundle must include tracing's workflowInterceptorModules)
  const tracing = temporalWorkerTracing();
  if (tracing && options.workflowBundle) {
    logger.info(
      'tracing with a prebuilt workflow bundle: workflow spans only if it includes the interceptors',
    );
  }
  const pool = createPool({
    url: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    poolMax: config.DATABASE_POOL_MAX,
    queryTimeoutMs: 60_000,
    applicationName: 'execution-replay-worker',
  });
  const objectStore = new ObjectStore({ ...objectStoreOptionsFromConfig(config), requestTimeoutMs: 30_000 });
  const routeTransport = createRouteTransport(config, pool, logger);
  await routeTransport.start();
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
      ...createReplayActivities({ pool, objectStore, routeTransport, logger }),
      ...createReconcileActivities({ pool, temporal, logger }),
    },
    interceptors: {
      activity: [
        ...(tracing?.activity ?? []),
        activityFailureMetrics,
        requestCorrelationLogging(temporal, logger),
      ],
      ...(tracing && !options.workflowBundle ? { workflowModules: tracing.workflowModules } : {}),
    },
    ...(tracing ? { sinks: tracing.sinks } : {}),
    maxConcurrentActivityTaskExecutions: 20,
  });
  let metricsServer: Server | undefined;
  if (options.metricsPort !== undefined) {
    metricsServer = await startMetricsServer(options.metricsPort);
    logger.info({ url: metricsServerUrl(metricsServer) }, 'worker metrics listening');
  }
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
        await routeTransport.close().catch(() => {});
        await pool.end().catch(() => {});
        objectStore.close();
        await connection.close().catch(() => {});
        await clientConnection.close().catch(() => {});
        await new Promise((resolve) => (metricsServer ? metricsServer.close(resolve) : resolve(undefined)));
        logger.info('worker stopped');
      }
    },
  };
}

/**
 * Logs which api request (its correlation id, kept in the workflow's memo by the api) created or
 * resumed a replay, next to the execution and workflow ids. Read after the activity answered, so the
 * api's update-with-start does not wait for it.
 */
function requestCorrelationLogging(temporal: Client, logger: Logger): ActivityInterceptorsFactory {
  const activities: Record<string, string> = {
    createExecutionRecord: 'execution record created for request',
    loadReplayState: 'replay resumed for request',
  };
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const result = await next(input);
        const { activityType, workflowExecution } = ctx.info;
        const message = activities[activityType];
        if (message && workflowExecution && logger.isLevelEnabled('info')) {
          const arg = input.args[0] as { id?: string; executionId?: string } | undefined;
          void temporal.workflow
            .getHandle(workflowExecution.workflowId, workflowExecution.runId)
            .describe()
            .then((description) => {
              const memo = description.memo ?? {};
              logger.info(
                {
                  execution_id: arg?.id ?? arg?.executionId,
                  workflow_id: workflowExecution.workflowId,
                  run_id: workflowExecution.runId,
                  correlation_id: memo.correlation_id ?? memo.resumed_by ?? null,
                },
                message,
              );
            })
            .catch(() => {});
        }
        return result;
      },
    },
  });
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
  // not in adapters/config.ts: optional, worker-only
  const metricsPort = process.env.WORKER_METRICS_PORT?.trim();
  if (metricsPort && !(/^\d{1,5}$/.test(metricsPort) && Number(metricsPort) <= 65535)) {
    process.stderr.write('configuration error: WORKER_METRICS_PORT must be a port number\n');
    process.exit(2);
  }
  const tracing = initTracing({ serviceName: 'execution-replay-worker' });
  enableProcessMetrics();
  Runtime.install({ shutdownSignals: ['SIGINT', 'SIGTERM'] });
  const handle = await createReplayWorker(config, {
    ...(metricsPort ? { metricsPort: Number(metricsPort) } : {}),
  });
  await handle.run();
  await tracing?.shutdown();
}
