/**
 * A private set of real services for one fault-test file: its own embedded Postgres, S3 store
 * (s3rver, or versitygw as npm run dev starts by default, optionally behind a latency proxy) and
 * Temporal dev server (file-backed), and for the kafka and sqs transports its own broker (Kafka,
 * ElasticMQ), each on its own port and restartable on that port with its data kept, so a test can stop and start them without touching the shared services of the global
 * setup. Workers run either as child processes (`node --import tsx worker.ts`, configured by env
 * like `npm run worker`) or in this process.
 */
import { appendFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import type pg from 'pg';
import pino from 'pino';
import { inject } from 'vitest';
import { sleep } from '../../adapters/sleep.ts';
import { parseConfig, type AppConfig } from '../../adapters/config.ts';
import { createPool } from '../../adapters/database.ts';
import type { Logger } from '../../adapters/logger.ts';
import { runMigrations } from '../../adapters/migrate.ts';
import { ObjectStore, objectStoreOptionsFromConfig } from '../../adapters/object-store.ts';
import { createRouteReader, type RouteReader } from '../../adapters/route-reader.ts';
import { createRouteTransport, type RouteTransport } from '../../adapters/route-transport.ts';
import { createApp, type App } from '../../api/app.ts';
import { apiSettingsFromConfig } from '../../api/dependencies.ts';
import { startElasticMq, type ElasticMq } from '../../scripts/stack/elasticmq.ts';
import { startEmbeddedPostgres } from '../../scripts/stack/embedded-postgres.ts';
import { startKafkaBroker, type KafkaBroker } from '../../scripts/stack/kafka-broker.ts';
import { freePort } from '../../scripts/stack/free-port.ts';
import { startManagedProcess, type ManagedProcess } from '../../scripts/stack/managed-process.ts';
import { startLatencyProxy } from '../../scripts/stack/latency-proxy.ts';
import { startKafkaDelayingProxy, type KafkaDelayingProxy } from './kafka-delaying-proxy.ts';
import { startS3Server } from '../../scripts/stack/s3-server.ts';
import { startVersityGw } from '../../scripts/stack/versitygw.ts';
import { startTemporalDevServer, type TemporalDevServer } from '../../scripts/stack/temporal-dev-server.ts';
import { createReplayWorker, type ReplayWorkerHandle } from '../../worker.ts';
import './stack-info.ts';
import { transportEnv, type TestTransport } from './transports.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface WorkerProcess {
  pid: number;
  logFile: string;
  /** Signals the worker's process group (SIGKILL: no chance to clean up). */
  kill(signal: NodeJS.Signals): void;
  /** Resolves with the exit code or signal. */
  exited: Promise<number | string | null>;
  /** Resolves once this process polls the workflow task queue (the api needs a worker to start a replay). */
  polling(timeoutMs?: number): Promise<void>;
}

export interface InProcessWorker {
  handle: ReplayWorkerHandle;
  /** Settles when the worker stops (shutdown, or a fatal error). */
  running: Promise<void>;
}

export interface PrivateStack {
  dir: string;
  /** The environment the api and every worker of this stack are configured by. */
  env: Record<string, string>;
  config: AppConfig;
  pool: pg.Pool;
  objectStore: ObjectStore;
  /** The api's route transport; every worker builds its own. */
  routeTransport: RouteTransport;
  routeReader: RouteReader;
  temporal: Client;
  logger: Logger;
  app: App;
  /**
   * Another api on the same services whose replays take these settings, e.g.
   * `{ REPLAY_STEP_MAX_ATTEMPTS: '3' }` (the workflow gets its step budget from the api).
   */
  appWith(overrides: Record<string, string>): App;
  /** Stops Postgres (fast shutdown: sessions are cut), waits downMs, starts it again on its data. */
  restartPostgres(downMs: number): Promise<void>;
  /** Kills the store: from now on every request is refused. */
  stopS3(): Promise<void>;
  /** Starts the store again on the same port and directory (the objects are kept). */
  startS3(): Promise<void>;
  /**
   * The hold the latency proxy in front of the store puts on every request from now on (a stack
   * started with `s3LatencyProxy`; the api and every worker reach the store through it).
   */
  setS3Latency(ms: number): void;
  /** Stops the transport's broker (Kafka, ElasticMQ; Postgres for pg-boss), waits downMs, starts it again on its data. */
  restartBroker(downMs: number): Promise<void>;
  /** Stops the Temporal dev server, waits downMs, starts it again on the same port and SQLite file. */
  restartTemporal(downMs: number): Promise<void>;
  /** A worker process on this stack's variables, with `overrides` (undefined: unset). */
  startWorkerProcess(overrides?: Record<string, string | undefined>): WorkerProcess;
  /** The proxy in front of the broker's delayed listener (a stack started with `kafkaDelayingProxy`). */
  kafkaProxy?: KafkaDelayingProxy;
  startInProcessWorker(): Promise<InProcessWorker>;
  close(): Promise<void>;
}

export interface PrivateStackOptions {
  /** Variables of adapters/config.ts over this stack's defaults, e.g. REPLAY_STEP_MAX_ATTEMPTS. */
  env?: Record<string, string>;
  /** The route transport; for kafka and sqs the stack starts a broker of its own. Default pgboss. */
  transport?: TestTransport;
  /** The S3 store: s3rver (the default here) or versitygw (npm run dev's default). */
  store?: 's3rver' | 'versitygw';
  /** Puts a latency proxy (scripts/stack/latency-proxy.ts) in front of the store; see setS3Latency. */
  s3LatencyProxy?: boolean;
  /**
   * With a kafka transport: a plaintext listener of the broker behind a proxy that can hold Produce
   * requests (test/support/kafka-delaying-proxy.ts); see `kafkaProxy`.
   */
  kafkaDelayingProxy?: boolean;
}

interface StoreHandle {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

let runtimeInstalled = false;
let sdkLogFile = '';

/**
 * The SDK's runtime of this process (installed once): its warnings, its own and its native core's,
 * go to the current stack's sdk.log, not the test output, since the faults make it warn a lot.
 */
function installRuntime() {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN', (entry) => {
        const line = `${new Date().toISOString()} ${entry.level} ${entry.message} ${inspect(entry.meta ?? {}, { breakLength: Infinity })}\n`;
        try {
          appendFileSync(sdkLogFile, line);
        } catch {
          // the stack's folder is gone (closed)
        }
      }),
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} } },
    });
  } catch {
    // already installed by other code of this process: its logs go where that code said
  }
}

export async function startPrivateStack(options: PrivateStackOptions = {}): Promise<PrivateStack> {
  const shared = inject('stack');
  const dir = await mkdtemp(path.join(tmpdir(), 'execution-replay-faults-'));
  // readable by the `postgres` system user that embedded Postgres runs as when we are root
  await chmod(dir, 0o755);
  sdkLogFile = path.join(dir, 'sdk.log');
  installRuntime();
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const s3Directory = path.join(dir, 's3');
    await mkdir(s3Directory);
    const transport = options.transport ?? 'pgboss';
    const [pgPort, s3Port, temporalPort, brokerPort, controllerPort, saslPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const kafkaProxy = options.kafkaDelayingProxy
      ? await startKafkaDelayingProxy(`127.0.0.1:${await freePort()}`)
      : undefined;
    if (kafkaProxy) cleanups.push(() => kafkaProxy.close());
    const kafkaOptions = {
      port: brokerPort,
      controllerPort,
      ...(transport === 'kafka-sasl' ? { saslPort } : {}),
      ...(kafkaProxy
        ? { delayedListener: { port: kafkaProxy.targetPort, advertisedPort: kafkaProxy.port } }
        : {}),
      dataDir: path.join(dir, 'kafka'),
      logFile: path.join(dir, 'kafka.log'),
    };
    const sqsOptions = {
      port: brokerPort,
      dataDir: path.join(dir, 'elasticmq'),
      logFile: path.join(dir, 'elasticmq.log'),
      // restartBroker: a FIFO queue must know its persisted messages before a resend reaches it
      holdUntilRestored: true,
    };
    const s3Options = { port: s3Port, directory: s3Directory, logFile: path.join(dir, 's3.log') };
    const startStore = async (): Promise<StoreHandle> => {
      if (options.store !== 'versitygw') return startS3Server(s3Options);
      if (!shared.versitygw) throw new Error('versitygw could not be built (is Go installed?)');
      return startVersityGw({ binary: shared.versitygw, ...s3Options });
    };
    const temporalOptions = {
      binary: shared.temporalCli,
      port: temporalPort,
      dbFile: path.join(dir, 'temporal.db'),
      logFile: path.join(dir, 'temporal.log'),
    };
    // allSettled: when one service fails to start, the ones that did are still stopped below
    const [pgResult, s3Result, temporalResult, kafkaResult, sqsResult] = await Promise.allSettled([
      startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port: pgPort, database: 'replay' }),
      startStore(),
      startTemporalDevServer(temporalOptions),
      transport === 'kafka' || transport === 'kafka-sasl' ? startKafkaBroker(kafkaOptions) : undefined,
      transport === 'sqs' || transport === 'sqs-fifo' ? startElasticMq(sqsOptions) : undefined,
    ]);
    let kafka: KafkaBroker | undefined = kafkaResult.status === 'fulfilled' ? kafkaResult.value : undefined;
    let sqs: ElasticMq | undefined = sqsResult.status === 'fulfilled' ? sqsResult.value : undefined;
    let s3: StoreHandle | undefined = s3Result.status === 'fulfilled' ? s3Result.value : undefined;
    let temporalServer: TemporalDevServer | undefined =
      temporalResult.status === 'fulfilled' ? temporalResult.value : undefined;
    if (pgResult.status === 'fulfilled') cleanups.push(() => pgResult.value.stop());
    cleanups.push(
      async () => s3?.stop(),
      async () => temporalServer?.stop(),
      async () => kafka?.stop(),
      async () => sqs?.stop(),
    );
    const failed = [pgResult, s3Result, temporalResult, kafkaResult, sqsResult].find(
      (result) => result.status === 'rejected',
    );
    if (failed) throw new Error(`a private service did not start: ${String(failed.reason)}`);
    const proxy = options.s3LatencyProxy ? await startLatencyProxy(s3!.endpoint, 0) : undefined;
    if (proxy) cleanups.push(() => proxy.close());
    const postgres = (pgResult as PromiseFulfilledResult<Awaited<ReturnType<typeof startEmbeddedPostgres>>>)
      .value;

    const env: Record<string, string> = {
      TEMPORAL_ADDRESS: temporalServer!.address,
      TEMPORAL_TASK_QUEUE: 'faults',
      DATABASE_URL: postgres.url,
      S3_ENDPOINT: proxy?.url ?? `http://127.0.0.1:${s3Port}`,
      S3_BUCKET: 'faults',
      S3_ACCESS_KEY_ID: s3!.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3!.secretAccessKey,
      LOG_LEVEL: 'warn',
      REPLAY_PAGE_SIZE: '100',
      REPLAY_STEP_MAX_ATTEMPTS: '10',
      // one coordinator per replay, unless a test asks for partitions (appWith)
      REPLAY_MAX_PARTITIONS: '1',
      RECONCILER_SCHEDULE: 'false',
      ...transportEnv(
        transport,
        {
          kafka: kafka && { brokers: kafka.brokers, saslSsl: kafka.saslSsl },
          sqs: sqs && {
            endpoint: sqs.endpoint,
            region: sqs.region,
            accessKeyId: sqs.accessKeyId,
            secretAccessKey: sqs.secretAccessKey,
          },
        },
        'faults',
      ),
      ...options.env,
    };
    const config = parseConfig(env);
    await runMigrations({
      databaseUrl: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      queueSchema: config.PGBOSS_SCHEMA,
    });

    const logger = pino(
      { level: config.LOG_LEVEL, base: { process: 'test' } },
      pino.destination({ dest: path.join(dir, 'in-process.log'), sync: true }),
    );
    const pool = createPool({
      url: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      poolMax: 5,
      queryTimeoutMs: 10_000,
      applicationName: 'fault-test',
    });
    cleanups.push(() => pool.end());
    const objectStore = new ObjectStore(objectStoreOptionsFromConfig(config));
    cleanups.push(async () => objectStore.close());
    await objectStore.ensureBucket();
    const routeTransport = createRouteTransport(config, pool, logger);
    await routeTransport.start();
    cleanups.push(() => routeTransport.close());
    const routeReader = createRouteReader(config, pool, logger);
    cleanups.push(() => routeReader.close());
    const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
    cleanups.push(() => connection.close());
    const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
    const api = (settings: AppConfig) =>
      createApp({
        pool,
        temporal,
        objectStore,
        routeTransport,
        logger,
        settings: apiSettingsFromConfig(settings, { dependencyTimeoutMs: 10_000 }),
      });

    const workerProcesses: ManagedProcess[] = [];
    const inProcessWorkers: InProcessWorker[] = [];
    let workerCount = 0;

    return {
      dir,
      env,
      config,
      pool,
      objectStore,
      routeTransport,
      routeReader,
      temporal,
      logger,
      app: api(config),
      appWith: (overrides) => api(parseConfig({ ...env, ...overrides })),
      async restartPostgres(downMs) {
        await postgres.stop();
        await sleep(downMs);
        await postgres.start();
      },
      async restartBroker(downMs) {
        if (kafka) {
          await kafka.stop();
          kafka = undefined;
          await sleep(downMs);
          kafka = await startKafkaBroker(kafkaOptions);
        } else if (sqs) {
          await sqs.stop();
          sqs = undefined;
          await sleep(downMs);
          sqs = await startElasticMq(sqsOptions);
        } else {
          await postgres.stop();
          await sleep(downMs);
          await postgres.start();
        }
      },
      async stopS3() {
        // killed, not stopped: on SIGTERM s3rver goes on serving its open keep-alive connections
        // until the 10 s grace ends, long enough for a replay to finish while "down"
        await s3?.process.stop(0);
        s3 = undefined;
      },
      async startS3() {
        s3 = await startStore();
      },
      setS3Latency(ms) {
        if (!proxy) throw new Error('this stack has no latency proxy (s3LatencyProxy)');
        proxy.latencyMs = ms;
      },
      async restartTemporal(downMs) {
        await temporalServer?.stop();
        temporalServer = undefined;
        await sleep(downMs);
        temporalServer = await startTemporalDevServer(temporalOptions);
      },
      kafkaProxy,
      startWorkerProcess(overrides = {}) {
        workerCount += 1;
        const logFile = path.join(dir, `worker-${workerCount}.log`);
        const managed = startManagedProcess('worker', process.execPath, ['--import', 'tsx', 'worker.ts'], {
          cwd: REPO_ROOT,
          logFile,
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? '',
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
            ...withOverrides(env, overrides),
          },
        });
        workerProcesses.push(managed);
        const pid = managed.child.pid!;
        return {
          pid,
          logFile,
          exited: managed.exited,
          async polling(timeoutMs = 60_000) {
            const deadline = Date.now() + timeoutMs;
            let gone = false;
            void managed.exited.then(() => (gone = true));
            while (!gone && Date.now() < deadline) {
              const { pollers } = await temporal.workflowService.describeTaskQueue({
                namespace: config.TEMPORAL_NAMESPACE,
                taskQueue: { name: config.TEMPORAL_TASK_QUEUE },
                taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
              });
              if (pollers?.some((poller) => poller.identity?.startsWith(`${pid}@`))) return;
              await sleep(200);
            }
            throw new Error(`worker ${pid} ${gone ? 'exited' : 'is not polling'}; see ${logFile}`);
          },
          kill(signal) {
            try {
              process.kill(-pid, signal); // its own process group (detached)
            } catch {
              // already gone
            }
          },
        };
      },
      async startInProcessWorker() {
        const handle = await createReplayWorker(config, {
          logger,
          identity: `in-process-${++workerCount}`,
          workflowBundle: { codePath: shared.workflowBundlePath },
        });
        const worker = { handle, running: handle.run() };
        worker.running.catch(() => {});
        inProcessWorkers.push(worker);
        return worker;
      },
      async close() {
        for (const { handle, running } of inProcessWorkers) {
          handle.shutdown();
          await running.catch(() => {});
        }
        await Promise.allSettled(workerProcesses.map((worker) => worker.stop(5000)));
        for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
        if (!process.env.KEEP_TEST_STACK) await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

function withOverrides(
  env: Record<string, string>,
  overrides: Record<string, string | undefined>,
): Record<string, string> {
  const merged: Record<string, string | undefined> = { ...env, ...overrides };
  return Object.fromEntries(
    Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
