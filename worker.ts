/**
 * The worker process: wires Postgres, S3 and the route transport (ROUTE_TRANSPORT) into the activities and polls the task
 * queue for replayExecution workflows. `npm run worker`, configured only by environment variables.
 */
import type { Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { Client } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, type ActivityInterceptorsFactory } from '@temporalio/worker';
import {
  createBulkCancelActivities,
  createReconcileActivities,
  createReplayActivities,
} from './activities/index.ts';
import { ConfigError, loadConfigOrExit, publishTaskQueueOf, type AppConfig } from './adapters/config.ts';
import { correlationIdOf } from './adapters/correlation.ts';
import { createPool } from './adapters/database.ts';
import { createLogger, type Logger } from './adapters/logger.ts';
import {
  activityFailureMetrics,
  enableProcessMetrics,
  metricsServerUrl,
  startMetricsServer,
} from './adapters/metrics.ts';
import { ObjectStore, objectStoreOptionsFromConfig } from './adapters/object-store.ts';
import { ensureReconcilerSchedule } from './adapters/reconciler-schedule.ts';
import { createRouteTransport } from './adapters/route-transport.ts';
import {
  TemporalConnectError,
  connectTemporal,
  connectTemporalClient,
  describeTemporalTarget,
  nativeConnectionOptions,
} from './adapters/temporal-connection.ts';
import { initTracing, temporalWorkerTracing } from './adapters/tracing.ts';
import {
  bundleWorkflows,
  prebuiltWorkflowBundle,
  workflowBuildId,
  type WorkflowBundle,
} from './adapters/workflow-bundle.ts';

/** How long a worker's start waits for Temporal before it gives up with the cause. */
const TEMPORAL_CONNECT_TIMEOUT_MS = 30_000;

export interface ReplayWorkerHandle {
  /** One Temporal worker per role: the workflow task queue's, the publish task queue's. */
  workers: Worker[];
  /** True while every worker of the process polls. */
  isRunning(): boolean;
  /** The workflow bundle's build id (adapters/workflow-bundle.ts), the worker's build id. */
  buildId: string;
  /** Runs until shutdown() (or a signal); then closes every resource. */
  run(): Promise<void>;
  /**
   * Drains: stops polling, lets each running publishing slice end after its page (its replay goes on
   * at once on another worker) within WORKER_SHUTDOWN_GRACE_SECONDS, then run() resolves.
   */
  shutdown(): void;
}

/**
 * Builds a worker and its dependencies from the config. Its workflows: the bundle given (tests), else
 * the one `npm run build` put beside the compiled worker, else a bundle made now from the sources.
 */
export async function createReplayWorker(
  config: AppConfig,
  options: {
    logger?: Logger;
    workflowBundle?: WorkflowBundle;
    identity?: string;
    /** Serves this process's Prometheus metrics on GET /metrics at this port (0: any free port); default WORKER_METRICS_PORT. */
    metricsPort?: number;
  } = {},
): Promise<ReplayWorkerHandle> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL, { process: 'worker' });
  // activity spans when initTracing() turned traces on; workflow spans come from the bundle's interceptors
  const tracing = temporalWorkerTracing();
  const prebuilt =
    options.workflowBundle ??
    (config.WORKFLOW_BUNDLE_PATH
      ? { codePath: config.WORKFLOW_BUNDLE_PATH }
      : prebuiltWorkflowBundle(import.meta.url));
  const workflowBundle = prebuilt ?? (await bundleWorkflows(logger));
  const buildId = workflowBuildId(workflowBundle);
  const pool = createPool({
    url: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    poolMax: config.DATABASE_POOL_MAX,
    queryTimeoutMs: config.WORKER_DATABASE_TIMEOUT_MS,
    applicationName: 'execution-replay-worker',
    logger,
  });
  const objectStore = new ObjectStore({
    ...objectStoreOptionsFromConfig(config),
    requestTimeoutMs: config.WORKER_S3_TIMEOUT_MS,
  });
  let routeTransport: ReturnType<typeof createRouteTransport>;
  try {
    routeTransport = createRouteTransport(config, pool, logger);
    // a broker that refuses the credentials stops the start here (ConfigError), before any polling
    await routeTransport.start();
  } catch (error) {
    await pool.end().catch(() => {});
    objectStore.close();
    throw error;
  }
  // bounded: a refused handshake ends the start with its cause instead of retrying unseen
  const connection = await connectTemporal(
    config.temporal,
    () => NativeConnection.connect(nativeConnectionOptions(config.temporal)),
    TEMPORAL_CONNECT_TIMEOUT_MS,
  ).catch(async (error: unknown) => {
    await routeTransport.close().catch(() => {});
    await pool.end().catch(() => {});
    objectStore.close();
    throw error;
  });
  // the reconciler's activity describes workflows, which needs a client
  const clientConnection = await connectTemporalClient(config.temporal, TEMPORAL_CONNECT_TIMEOUT_MS);
  const temporal = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE });
  // the process that runs the reconciler's workflow keeps its schedule; a publish-only one does not
  if (config.RECONCILER_SCHEDULE && config.WORKER_ROLES.includes('workflows')) {
    const schedule = await ensureReconcilerSchedule(temporal, config);
    logger.info({ schedule, every_seconds: config.RECONCILE_INTERVAL_SECONDS }, 'reconciler schedule');
  }
  // aborted by shutdown(): publishing slices end after their page and the workers stop polling
  const draining = new AbortController();
  const activities = {
    ...createReplayActivities({
      pool,
      objectStore,
      routeTransport,
      logger,
      routeNameTemplate: config.ROUTE_NAME_TEMPLATE,
      draining: draining.signal,
    }),
    ...createReconcileActivities({ pool, temporal, logger }),
    ...createBulkCancelActivities({ pool, temporal, logger }),
  };
  const activityInterceptors = [
    ...tracing.activity,
    activityFailureMetrics,
    requestCorrelationLogging(logger),
  ];
  const workers: Worker[] = [];
  /** What run() waits on, by worker: a drain stops the workflows role once the publish role stopped. */
  const runs = new Map<Worker, Promise<void>>();
  // Two task queues, so the first workflow task of a new replay never waits behind the list and
  // publish work of running ones: the workflow queue carries workflow tasks (with the local
  // activities that start a replay and change its status), the publish queue the long activities.
  if (config.WORKER_ROLES.includes('publish')) {
    workers.push(
      await Worker.create({
        connection,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: publishTaskQueueOf(config),
        ...(options.identity ? { identity: `${options.identity}-publish` } : {}),
        buildId,
        activities: {
          publishPages: activities.publishPages,
          planPartitions: activities.planPartitions,
          countReplayPreview: activities.countReplayPreview,
          // a canary's wait holds a slot for up to its within_seconds, listing now and then
          watchCanaryOutputs: activities.watchCanaryOutputs,
        },
        interceptors: { activity: activityInterceptors },
        maxConcurrentActivityTaskExecutions: config.WORKER_PUBLISH_CONCURRENCY,
        shutdownGraceTime: `${config.WORKER_SHUTDOWN_GRACE_SECONDS}s`,
      }),
    );
  }
  if (config.WORKER_ROLES.includes('workflows')) {
    workers.push(
      await Worker.create({
        connection,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        ...(options.identity ? { identity: options.identity } : {}),
        workflowBundle,
        buildId,
        activities,
        interceptors: { activity: activityInterceptors },
        sinks: tracing.sinks,
        shutdownGraceTime: `${config.WORKER_SHUTDOWN_GRACE_SECONDS}s`,
      }),
    );
  }
  let metricsServer: Server | undefined;
  const metricsPort = options.metricsPort ?? config.WORKER_METRICS_PORT;
  if (metricsPort !== undefined) {
    // /readyz: every Temporal worker of the process polls (not before run(), not while draining)
    metricsServer = await startMetricsServer(metricsPort, undefined, () =>
      workers.every((worker) => worker.getState() === 'RUNNING'),
    );
    logger.info({ url: metricsServerUrl(metricsServer) }, 'worker metrics listening');
  }
  return {
    workers,
    buildId,
    isRunning: () => workers.every((worker) => worker.getState() === 'RUNNING'),
    shutdown() {
      const stop = (list: Worker[]) => {
        for (const worker of list) if (worker.getState() === 'RUNNING') worker.shutdown();
      };
      if (draining.signal.aborted) return stop(workers);
      logger.info({ grace_seconds: config.WORKER_SHUTDOWN_GRACE_SECONDS }, 'worker draining');
      draining.abort();
      // The publish role first: its slices end after their page. The workflow tasks their results
      // cause still run here (this process holds them in its sticky cache), then the workflows role
      // stops; stopped together, those tasks would wait for their timeout before another worker ran them.
      const publishing = workers.filter((worker) => worker.options.taskQueue === publishTaskQueueOf(config));
      const others = workers.filter((worker) => !publishing.includes(worker));
      stop(publishing);
      const publishRuns = publishing.map((worker) => runs.get(worker));
      if (publishRuns.some((run) => run === undefined)) return stop(others);
      void Promise.allSettled(publishRuns).then(() => stop(others));
    },
    async run() {
      try {
        logger.info(
          {
            roles: config.WORKER_ROLES,
            task_queue: config.TEMPORAL_TASK_QUEUE,
            publish_task_queue: publishTaskQueueOf(config),
            temporal: describeTemporalTarget(config.temporal),
            build_id: buildId,
            workflow_bundle: prebuilt ? 'prebuilt' : 'bundled at start',
          },
          'worker started',
        );
        // one worker failing stops the others: the process is whole or not running
        await Promise.all(
          workers.map((worker) => {
            const running = worker.run().catch((error: unknown) => {
              for (const other of workers) if (other.getState() === 'RUNNING') other.shutdown();
              throw error;
            });
            runs.set(worker, running);
            return running;
          }),
        );
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
 * Logs which api request (its correlation id, carried in Temporal headers: adapters/correlation.ts)
 * created or resumed a replay, next to the execution and workflow ids.
 */
function requestCorrelationLogging(logger: Logger): ActivityInterceptorsFactory {
  const activities: Record<string, string> = {
    startReplay: 'replay started for request',
    loadReplayState: 'replay resumed for request',
  };
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const result = await next(input);
        const { activityType, workflowExecution } = ctx.info;
        const message = activities[activityType];
        if (message && workflowExecution) {
          const arg = input.args[0] as { id?: string; executionId?: string } | undefined;
          logger.info(
            {
              execution_id: arg?.id ?? arg?.executionId,
              workflow_id: workflowExecution.workflowId,
              run_id: workflowExecution.runId,
              correlation_id: correlationIdOf(input.headers) ?? null,
            },
            message,
          );
        }
        return result;
      },
    },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const config = loadConfigOrExit();
  const tracing = initTracing({ serviceName: 'execution-replay-worker' });
  enableProcessMetrics();
  // SIGINT and SIGTERM drain (handle.shutdown), in that order of roles; not the SDK's stop-all handler
  Runtime.install({ shutdownSignals: [] });
  const handle = await createReplayWorker(config).catch((error: unknown) => {
    // a setting the broker refused: one line naming it, as for any configuration error
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    // one line with the cause (a refused TLS handshake, a missing client certificate), then exit
    if (!(error instanceof TemporalConnectError)) throw error;
    createLogger(config.LOG_LEVEL, { process: 'worker' }).fatal(error.message);
    process.exit(1);
  });
  // SIGTERM (Kubernetes, docker stop) drains
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => handle.shutdown());
  await handle.run();
  await tracing?.shutdown();
}
