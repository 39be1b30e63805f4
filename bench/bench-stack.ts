/**
 * The benchmark's own stack, built from the same modules as `npm run dev`: the Temporal dev server
 * (or, with `temporal: 'cluster'`, the cluster `npm run dev -- --temporal cluster` starts: four
 * services on the stack's Postgres, mTLS), an embedded Postgres, an S3 store (s3rver, or versitygw when its binary is given), plus the worker
 * and the api as separate processes, as in production, so their memory and latency are their own.
 */
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig, type AppConfig } from '../adapters/config.ts';
import { runMigrations } from '../adapters/migrate.ts';
import { writeWorkflowBundle } from '../adapters/workflow-bundle.ts';
import { apiKeyLine, generateApiKey } from '../api/auth.ts';
import { ObjectStore, objectStoreOptionsFromConfig } from '../adapters/object-store.ts';
import { startElasticMq, ELASTICMQ_CREDENTIALS } from '../scripts/stack/elasticmq.ts';
import { startEmbeddedPostgres } from '../scripts/stack/embedded-postgres.ts';
import { startKafkaBroker } from '../scripts/stack/kafka-broker.ts';
import { ELASTICMQ, KAFKA } from '../scripts/stack/broker-jars.ts';
import { freePort, waitForPort } from '../scripts/stack/free-port.ts';
import { startManagedProcess, type ManagedProcess } from '../scripts/stack/managed-process.ts';
import { startS3Server, S3RVER_CREDENTIALS } from '../scripts/stack/s3-server.ts';
import { startTemporalCluster } from '../scripts/stack/temporal-cluster.ts';
import { startTemporalDevServer } from '../scripts/stack/temporal-dev-server.ts';
import { startVersityGw } from '../scripts/stack/versitygw.ts';
import { startDefaultStore } from '../scripts/stack/default-store.ts';
import { findTemporalCli } from '../scripts/temporal-binary.ts';
import { findTemporalServer } from '../scripts/temporal-server-binary.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface BenchStack {
  config: AppConfig;
  env: Record<string, string>;
  apiUrl: string;
  /** Bearer key the bench's requests send. */
  apiKey: string;
  store: 's3rver' | 'versitygw';
  /** The Temporal the stack runs on: the dev server (SQLite, one process) or the cluster. */
  temporal: 'dev' | 'cluster';
  /** The route transport's broker (`pg-boss` for the default transport). */
  broker: string;
  /** For versitygw: the folder holding the bucket's objects (objects can be seeded there directly). */
  bucketDir?: string;
  /** The worker process that publishes now (restartWorker replaces it). */
  worker: ManagedProcess;
  /** Starts a new worker process, as a supervisor would after a crash. */
  restartWorker(): ManagedProcess;
  /**
   * Replaces the api and the worker processes: `workers` worker processes and an api, all with
   * these variables over the stack's (a latency proxy as S3_ENDPOINT, REPLAY_MAX_PARTITIONS...).
   */
  setTopology(topology: { workers: number; env?: Record<string, string> }): Promise<ManagedProcess[]>;
  /**
   * Replaces the api and the worker processes by the same ones (a process per role when split), all
   * with these variables over the stack's; `{}`: the stack's own again. Returns the new workers.
   */
  setAppEnv(env: Record<string, string>): Promise<ManagedProcess[]>;
  /**
   * With the Kafka transport: the client settings of the broker's SASL_SSL listener (SCRAM-SHA-512
   * and TLS with the broker's CA), to give setAppEnv; the stack's own settings use the plaintext one.
   */
  kafkaSaslSslEnv?: Record<string, string>;
  workDir: string;
  temporalCli: string;
  close(): Promise<void>;
}

export async function startBenchStack(options: {
  versitygw?: string;
  /** The store `npm run dev` starts (scripts/stack/default-store.ts) instead: what a new user meets. */
  defaultStore?: boolean;
  pageSize?: string;
  transport?: 'pgboss' | 'kafka' | 'sqs';
  /** Two worker processes, one per role (`workflows`, `publish`), instead of one with both. */
  splitRoles?: boolean;
  /** `cluster`: scripts/stack/temporal-cluster.ts on the stack's Postgres, as `npm run dev -- --temporal cluster`. */
  temporal?: 'dev' | 'cluster';
  log: (line: string) => void;
}): Promise<BenchStack> {
  const workDir = await mkdtemp(path.join(tmpdir(), 'execution-replay-bench-'));
  await chmod(workDir, 0o755);
  const stops: (() => Promise<void>)[] = [];
  const temporalKind = options.temporal ?? 'dev';
  const temporalCli = await findTemporalCli(options.log);
  // the cluster keeps its state in the stack's Postgres: Postgres first (stopped last)
  const postgres = await startEmbeddedPostgres({
    dataDir: path.join(workDir, 'pg'),
    port: await freePort(),
    database: 'bench',
  });
  stops.push(postgres.stop);
  // the TEMPORAL_* variables of the api and the workers, as scripts/dev.ts passes them
  let temporalEnv: Record<string, string>;
  if (temporalKind === 'cluster') {
    const cluster = await startTemporalCluster({
      binaries: await findTemporalServer(options.log),
      dir: path.join(workDir, 'temporal-cluster'),
      postgresUrl: postgres.url,
      frontendPort: await freePort(),
      log: options.log,
    });
    stops.unshift(cluster.stop);
    temporalEnv = cluster.env;
  } else {
    const temporal = await startTemporalDevServer({
      binary: temporalCli,
      port: await freePort(),
      dbFile: path.join(workDir, 'temporal.db'),
      logFile: path.join(workDir, 'temporal.log'),
    });
    stops.unshift(temporal.stop);
    temporalEnv = { TEMPORAL_ADDRESS: temporal.address };
  }
  let s3: { endpoint: string; accessKeyId: string; secretAccessKey: string; stop: () => Promise<void> };
  let storeKind: 's3rver' | 'versitygw';
  let bucketsDir: string | undefined;
  if (options.defaultStore) {
    const store = await startDefaultStore({
      port: await freePort(),
      dataDir: workDir,
      logFile: path.join(workDir, 'store.log'),
      log: options.log,
    });
    s3 = store;
    storeKind = store.kind;
    bucketsDir = store.directory;
  } else if (options.versitygw) {
    s3 = await startVersityGw({
      binary: options.versitygw,
      port: await freePort(),
      directory: path.join(workDir, 'versitygw'),
      logFile: path.join(workDir, 'versitygw.log'),
    });
    storeKind = 'versitygw';
    bucketsDir = path.join(workDir, 'versitygw');
  } else {
    const directory = path.join(workDir, 's3');
    await mkdir(directory, { recursive: true });
    const server = await startS3Server({
      port: await freePort(),
      directory,
      logFile: path.join(workDir, 's3.log'),
    });
    s3 = { endpoint: server.endpoint, ...S3RVER_CREDENTIALS, stop: server.stop };
    storeKind = 's3rver';
  }
  stops.push(s3.stop);

  // the broker of the route transport, on this machine like the rest
  let transportEnv: Record<string, string> = {};
  let broker = 'pg-boss';
  let kafkaSaslSslEnv: Record<string, string> | undefined;
  if (options.transport === 'kafka') {
    const kafka = await startKafkaBroker({
      port: await freePort(),
      controllerPort: await freePort(),
      // a SASL_SSL listener beside the plaintext one, as managed Kafka services offer
      saslPort: await freePort(),
      dataDir: path.join(workDir, 'kafka'),
      logFile: path.join(workDir, 'kafka.log'),
      log: options.log,
    });
    stops.push(kafka.stop);
    transportEnv = { ROUTE_TRANSPORT: 'kafka', KAFKA_BROKERS: kafka.brokers };
    if (kafka.saslSsl)
      kafkaSaslSslEnv = {
        KAFKA_BROKERS: kafka.saslSsl.brokers,
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: kafka.saslSsl.username,
        KAFKA_SASL_PASSWORD: kafka.saslSsl.password,
        KAFKA_TLS_CA_FILE: kafka.saslSsl.caFile,
      };
    broker = `Kafka ${KAFKA.version} (KRaft, 1 node, 3 partitions)`;
  } else if (options.transport === 'sqs') {
    const sqs = await startElasticMq({
      port: await freePort(),
      dataDir: path.join(workDir, 'elasticmq'),
      logFile: path.join(workDir, 'elasticmq.log'),
      log: options.log,
    });
    stops.push(sqs.stop);
    transportEnv = {
      ROUTE_TRANSPORT: 'sqs',
      SQS_ENDPOINT: sqs.endpoint,
      SQS_REGION: ELASTICMQ_CREDENTIALS.region,
      SQS_ACCESS_KEY_ID: ELASTICMQ_CREDENTIALS.accessKeyId,
      SQS_SECRET_ACCESS_KEY: ELASTICMQ_CREDENTIALS.secretAccessKey,
    };
    broker = `ElasticMQ ${ELASTICMQ.version} (standard queue, H2 persistence)`;
  }

  const apiPort = await freePort();
  const apiKey = generateApiKey();
  const env: Record<string, string> = {
    ...temporalEnv,
    TEMPORAL_TASK_QUEUE: 'bench',
    DATABASE_URL: postgres.url,
    DATABASE_POOL_MAX: '10',
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: 'bench-outputs',
    S3_PREFIX: 'bench/',
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    LOG_LEVEL: 'warn',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    API_KEYS: apiKeyLine('bench', apiKey),
    // the latency runs send thousands of POSTs with one key: no rate limit
    RATE_LIMIT_PER_MINUTE: '0',
    ...(options.pageSize ? { REPLAY_PAGE_SIZE: options.pageSize } : {}),
    ...transportEnv,
  };
  const config = parseConfig(env);
  await runMigrations({
    databaseUrl: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    queueSchema: config.PGBOSS_SCHEMA,
  });
  const store = new ObjectStore(objectStoreOptionsFromConfig(config));
  await store.ensureBucket();
  store.close();

  // one workflow bundle for every worker the bench starts: a restarted worker polls again at once
  const { codePath } = await writeWorkflowBundle(workDir);
  const childEnv = { ...process.env, ...env, WORKFLOW_BUNDLE_PATH: codePath };
  let apps: ManagedProcess[] = [];
  // setAppEnv's variables: every process started after it (restartWorker's too) gets them
  let appEnv: Record<string, string> = {};
  const startNode = (name: string, file: string, overrides: Record<string, string> = {}) => {
    const child = startManagedProcess(name, process.execPath, ['--import', 'tsx', path.join(ROOT, file)], {
      logFile: path.join(workDir, `${name}.log`),
      env: { ...childEnv, ...appEnv, ...overrides },
      cwd: ROOT,
    });
    apps.push(child);
    return child;
  };
  stops.unshift(() => Promise.all(apps.map((app) => app.stop())).then(() => {}));
  // with split roles the publishing process is the last: the one `worker` and `restartWorker` mean
  const startWorkers = () =>
    options.splitRoles
      ? [
          startNode('worker-workflows', 'worker.ts', { WORKER_ROLES: 'workflows' }),
          startNode('worker-publish', 'worker.ts', { WORKER_ROLES: 'publish' }),
        ]
      : [startNode('worker', 'worker.ts')];
  let workers = startWorkers();
  startNode('api', 'api/main.ts');
  await waitForPort('127.0.0.1', apiPort, 60_000);

  return {
    config,
    env,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    apiKey,
    store: storeKind,
    temporal: temporalKind,
    broker,
    bucketDir: bucketsDir ? path.join(bucketsDir, env.S3_BUCKET!) : undefined,
    get worker() {
      return workers.at(-1)!;
    },
    restartWorker() {
      const publishing = options.splitRoles
        ? startNode('worker-publish', 'worker.ts', { WORKER_ROLES: 'publish' })
        : startNode('worker', 'worker.ts');
      workers = [...workers.slice(0, -1), publishing];
      return publishing;
    },
    async setTopology(topology) {
      await Promise.all(apps.map((app) => app.stop()));
      apps = [];
      workers = Array.from({ length: topology.workers }, (_, index) =>
        startNode(`worker-${index + 1}`, 'worker.ts', topology.env),
      );
      startNode('api', 'api/main.ts', topology.env);
      await waitForPort('127.0.0.1', apiPort, 60_000);
      return workers;
    },
    async setAppEnv(overrides) {
      await Promise.all(apps.map((app) => app.stop()));
      apps = [];
      appEnv = overrides;
      workers = startWorkers();
      startNode('api', 'api/main.ts');
      await waitForPort('127.0.0.1', apiPort, 60_000);
      return workers;
    },
    ...(kafkaSaslSslEnv ? { kafkaSaslSslEnv } : {}),
    workDir,
    temporalCli,
    async close() {
      for (const stop of stops) await stop().catch(() => {});
      if (!process.env.KEEP_BENCH_STACK) await rm(workDir, { recursive: true, force: true });
    },
  };
}
