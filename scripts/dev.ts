/**
 * `npm run dev`: the whole service on a machine with nothing but Node (docs/design.md section 8). Starts the
 * Temporal dev server, Postgres and S3 (embedded ones unless DATABASE_URL / S3_ENDPOINT are set), applies
 * the migrations, runs the api and the worker as child processes and writes how to reach all of it to
 * <data>/stack.json and <data>/stack.env. State lives in the data dir, so a restart keeps it.
 *
 *   npm run dev                        # routes on pg-boss, in the embedded Postgres
 *   npm run dev -- --transport kafka   # routes on Kafka topics: starts a KRaft broker too
 *   npm run dev -- --transport sqs     # routes on SQS queues: starts ElasticMQ too (SQS_FIFO=true: FIFO)
 *   npm run dev -- --temporal cluster  # on a Temporal cluster (Postgres persistence, four services,
 *                                      # mTLS) instead of the dev server: scripts/stack/temporal-cluster.ts
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runMigrations } from '../adapters/migrate.ts';
import { writeWorkflowBundle } from '../adapters/workflow-bundle.ts';
import { ObjectStore } from '../adapters/object-store.ts';
import { apiKeyLine, generateApiKey } from '../api/auth.ts';
import { ELASTICMQ_CREDENTIALS, startElasticMq } from './stack/elasticmq.ts';
import { startEmbeddedPostgres } from './stack/embedded-postgres.ts';
import { startKafkaBroker } from './stack/kafka-broker.ts';
import { startManagedProcess, type ManagedProcess } from './stack/managed-process.ts';
import { startDefaultStore, type EmbeddedStoreKind } from './stack/default-store.ts';
import { startTemporalCluster } from './stack/temporal-cluster.ts';
import { startTemporalDevServer } from './stack/temporal-dev-server.ts';
import { findTemporalCli } from './temporal-binary.ts';
import { findTemporalServer, findTemporalUiServer } from './temporal-server-binary.ts';
import { sleep } from '../adapters/sleep.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const env = process.env;
// the AWS SDK's notice that its 2027 releases need Node 22: noise in the dev stack's output
env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const dataDir = path.resolve(env.DEV_DATA_DIR || path.join(ROOT, '.data'));
const logDir = path.join(dataDir, 'logs');
const runDir = path.join(dataDir, 'run');
const stackJsonFile = path.join(dataDir, 'stack.json');
const stackEnvFile = path.join(dataDir, 'stack.env');
const logFile = (name: string) => path.join(logDir, `${name}.log`);
const say = (line: string) => process.stdout.write(`[dev] ${line}\n`);

const PORT_DEFAULTS = {
  DEV_API_PORT: 8080,
  DEV_TEMPORAL_PORT: 7233,
  DEV_TEMPORAL_UI_PORT: 8233,
  DEV_POSTGRES_PORT: 5433,
  DEV_S3_PORT: 4568,
  DEV_KAFKA_PORT: 9092,
  DEV_KAFKA_CONTROLLER_PORT: 9093,
  DEV_KAFKA_SASL_PORT: 9094,
  DEV_SQS_PORT: 9324,
};

const TRANSPORTS = ['pgboss', 'kafka', 'sqs'] as const;
type Transport = (typeof TRANSPORTS)[number];
const TEMPORAL_KINDS = ['dev', 'cluster'] as const;
type TemporalKind = (typeof TEMPORAL_KINDS)[number];
const { transport, temporalKind } = argsOrExit();
type PortVariable = keyof typeof PORT_DEFAULTS;

const ports = Object.fromEntries(
  Object.entries(PORT_DEFAULTS).map(([variable, fallback]) => [variable, portFromEnv(variable, fallback)]),
) as Record<PortVariable, number>;

const NAMESPACE = 'default';
const TASK_QUEUE = env.TEMPORAL_TASK_QUEUE || 'execution-replay';
const READY_TIMEOUT_MS = 60_000;

/** Something we started: stopped in order on shutdown, and watched for dying before that. */
interface Service {
  name: string;
  logFile: string;
  exited: Promise<unknown>;
  stop(): Promise<void>;
  /** For a forced exit: no grace, no waiting. */
  kill(): void;
}

type StoreKind = EmbeddedStoreKind | 'external';

interface S3Settings {
  /** Which store: the embedded versitygw or s3rver, or one S3_ENDPOINT names. */
  kind: StoreKind;
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  prefix: string;
  forcePathStyle: string;
}

/** Where the routes are: the transport's kind and how to reach it. */
type TransportJson =
  | { kind: 'pgboss'; database_url: string; schema: string }
  | {
      kind: 'kafka';
      brokers: string;
      /** The SASL_SSL listener beside the plaintext one: the settings a client needs to use it. */
      sasl_ssl?: { brokers: string; mechanism: string; username: string; password: string; ca_file: string };
    }
  | {
      kind: 'sqs';
      endpoint: string;
      region: string;
      access_key_id: string;
      secret_access_key: string;
      fifo: boolean;
    };

/** <data>/stack.json: where each part of the running stack is. */
interface StackJson {
  api_url: string;
  /** The local stack's API key (Authorization: Bearer <api_key>). */
  api_key: string;
  temporal_address: string;
  temporal_namespace: string;
  temporal_ui_url: string | null;
  temporal_cli: string;
  /** The cluster's profile (mTLS): `TEMPORAL_CONFIG_FILE=<it> temporal ...`; null on the dev server. */
  temporal_config_file: string | null;
  task_queue: string;
  database_url: string;
  s3: {
    /** `versitygw` or `s3rver` (embedded), `external` (S3_ENDPOINT). */
    kind: StoreKind;
    endpoint: string;
    bucket: string;
    region: string;
    access_key_id: string | null;
    secret_access_key: string | null;
    prefix: string;
  };
  transport: TransportJson;
}

const infra: Service[] = [];
const apps: Service[] = [];
let stopping = false;
let startup: Promise<void> = Promise.resolve();
let finishing: Promise<void> | undefined;

function argsOrExit(): { transport: Transport; temporalKind: TemporalKind } {
  const usage = 'usage: npm run dev [-- --transport pgboss|kafka|sqs] [--temporal dev|cluster]';
  try {
    const { values } = parseArgs({
      options: {
        transport: { type: 'string', default: 'pgboss' },
        temporal: { type: 'string', default: 'dev' },
      },
    });
    if (!(TRANSPORTS as readonly string[]).includes(values.transport))
      process.stderr.write(`--transport must be pgboss, kafka or sqs\n${usage}\n`);
    else if (!(TEMPORAL_KINDS as readonly string[]).includes(values.temporal))
      process.stderr.write(`--temporal must be dev or cluster\n${usage}\n`);
    else return { transport: values.transport as Transport, temporalKind: values.temporal as TemporalKind };
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${usage}\n`);
  }
  process.exit(2);
}

function portFromEnv(variable: string, fallback: number): number {
  const raw = env[variable];
  if (!raw) return fallback;
  const port = Number(raw);
  if (Number.isInteger(port) && port > 0 && port < 65536) return port;
  process.stderr.write(`configuration error: ${variable} must be a TCP port (1-65535), got "${raw}"\n`);
  process.exit(2);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    // 0.0.0.0 collides with anything bound to the port on any IPv4 address (the api binds 0.0.0.0)
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

/** Checked before anything starts, so that a clash never leaves half a stack running. */
async function exitIfPortsTaken(): Promise<void> {
  const needed = (Object.keys(ports) as PortVariable[]).filter(
    (variable) =>
      !(variable === 'DEV_POSTGRES_PORT' && env.DATABASE_URL) &&
      !(variable === 'DEV_S3_PORT' && env.S3_ENDPOINT) &&
      !(variable.startsWith('DEV_KAFKA_') && transport !== 'kafka') &&
      !(variable === 'DEV_SQS_PORT' && transport !== 'sqs'),
  );
  const problems: string[] = [];
  for (const [index, variable] of needed.entries()) {
    const clash = needed.slice(0, index).find((other) => ports[other] === ports[variable]);
    if (clash) problems.push(`${variable} and ${clash} are both ${ports[variable]}`);
    else if (!(await isFree(ports[variable])))
      problems.push(`port ${ports[variable]} is in use (set ${variable} to a free port)`);
  }
  if (problems.length === 0) return;
  process.stderr.write(`[dev] cannot start: ${problems.join('; ')}\n`);
  process.exit(1);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Resolves once the Postgres server of pgDir is gone. The embedded-postgres handle exposes no process
 * (and its stop() hangs if the server has stopped already), so we go by postmaster.pid: Postgres removes
 * it when it stops, and a crash leaves it naming a dead process.
 */
async function postgresGone(pgDir: string, pollMs: number): Promise<string> {
  for (;;) {
    const pidFile = await readFile(path.join(pgDir, 'postmaster.pid'), 'utf8').catch(() => '');
    const pid = Number(pidFile.split('\n')[0]);
    if (!pid || !isAlive(pid)) return 'its process is gone';
    await sleep(pollMs);
  }
}

function track(list: Service[], service: Service): void {
  list.push(service);
  void service.exited.then((how) => {
    if (stopping) return;
    process.stderr.write(`[dev] ${service.name} exited unexpectedly (${how}); see ${service.logFile}\n`);
    void finish(1);
  });
}

/** Restart delays of a supervised process: doubling from 1 s to 30 s, reset once it has run a minute. */
const RESTART_FIRST_DELAY_MS = 1000;
const RESTART_MAX_DELAY_MS = 30_000;
const RESTART_STABLE_MS = 60_000;

/**
 * The api and the worker are supervised: one that dies is started again, with backoff, and the rest
 * of the stack keeps running (the Temporal server, Postgres and the store hold all the state, and a
 * new worker picks up where the dead one left off).
 */
function supervise(name: string, file: string, childEnv: NodeJS.ProcessEnv): void {
  let restarts = 0;
  let delay = RESTART_FIRST_DELAY_MS;
  let current: ManagedProcess | undefined;
  const service: Service = {
    name,
    logFile: logFile(name),
    exited: new Promise(() => {}), // a supervised process dying is not the stack's end
    stop: async () => current?.stop(),
    kill: () => current && managed(current, logFile(name)).kill(),
  };
  apps.push(service);
  const launch = () => {
    const startedAt = Date.now();
    current = startNodeProcess(name, file, childEnv);
    // <data>/run/<name>.pid: which process is the api or the worker now (operators, tests)
    void writeFile(path.join(runDir, `${name}.pid`), `${current.child.pid}\n`).catch(() => {});
    void current.exited.then(async (how) => {
      if (stopping) return;
      if (Date.now() - startedAt > RESTART_STABLE_MS) delay = RESTART_FIRST_DELAY_MS;
      restarts += 1;
      process.stderr.write(
        `[dev] ${name} exited unexpectedly (${how}); restarting it in ${delay / 1000} s (restart ${restarts}); see ${logFile(name)}\n`,
      );
      await sleep(delay);
      delay = Math.min(delay * 2, RESTART_MAX_DELAY_MS);
      if (!stopping) launch();
    });
  };
  launch();
}

function managed(child: ManagedProcess, log: string): Service {
  return {
    name: child.name,
    logFile: log,
    exited: child.exited,
    stop: () => child.stop(),
    kill: () => {
      try {
        process.kill(-child.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}

/** The stack's Temporal, dev server or cluster: where it is and what a client of it sets. */
interface StackTemporal {
  address: string;
  namespace: string;
  uiUrl: string | undefined;
  /** TEMPORAL_* variables of the api and the workers. */
  env: Record<string, string>;
  /** A profile for the `temporal` CLI (the cluster's, with its client certificate). */
  configFile: string | undefined;
}

async function startTemporal(binary: string): Promise<StackTemporal> {
  const server = await startTemporalDevServer({
    binary,
    port: ports.DEV_TEMPORAL_PORT,
    uiPort: ports.DEV_TEMPORAL_UI_PORT,
    namespace: NAMESPACE,
    dbFile: path.join(dataDir, 'temporal.db'),
    logFile: logFile('temporal'),
  });
  track(infra, managed(server.process, logFile('temporal')));
  return {
    address: server.address,
    namespace: server.namespace,
    uiUrl: server.uiUrl,
    env: { TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace },
    configFile: undefined,
  };
}

/**
 * The Temporal server with its production persistence: four services on the stack's Postgres (in
 * databases `temporal` and `temporal_visibility`), mTLS on the frontend, and the UI when it builds.
 */
async function startCluster(databaseUrl: Promise<string>): Promise<StackTemporal> {
  const [binaries, uiBinary] = await Promise.all([findTemporalServer(say), findTemporalUiServer(say)]);
  if (!uiBinary) say('no Temporal UI for the cluster (see docs/deploy.md); the `temporal` CLI works');
  const cluster = await startTemporalCluster({
    binaries,
    dir: path.join(dataDir, 'temporal-cluster'),
    logDir,
    postgresUrl: await databaseUrl,
    frontendPort: ports.DEV_TEMPORAL_PORT,
    namespace: NAMESPACE,
    log: say,
    ...(uiBinary ? { ui: { binary: uiBinary, port: ports.DEV_TEMPORAL_UI_PORT } } : {}),
  });
  for (const service of Object.values(cluster.services))
    track(infra, managed(service.process(), service.logFile));
  if (cluster.ui) track(infra, managed(cluster.ui, logFile('temporal-ui')));
  return {
    address: cluster.address,
    namespace: cluster.namespace,
    uiUrl: cluster.uiUrl,
    env: cluster.env,
    configFile: cluster.configFile,
  };
}

async function startPostgres(): Promise<string> {
  if (env.DATABASE_URL) return env.DATABASE_URL;
  const pgDir = path.join(dataDir, 'pg');
  const log = createWriteStream(logFile('postgres'), { flags: 'a' });
  const handle = await startEmbeddedPostgres({
    dataDir: pgDir,
    port: ports.DEV_POSTGRES_PORT,
    database: 'replay',
    onLog: (line) => log.write(line),
  }).catch((error: unknown) => {
    // embedded-postgres rejects with nothing when the server exits during start
    const hint =
      process.getuid?.() === 0 ? ' (as root it runs as the postgres user: can that reach it?)' : '';
    throw new Error(`embedded Postgres in ${pgDir} did not start${hint}: ${error ?? 'it exited'}`);
  });
  track(infra, {
    name: 'postgres',
    logFile: logFile('postgres'),
    exited: postgresGone(pgDir, 1000),
    // Postgres may have stopped already: it shares our process group, so a terminal's Ctrl-C reaches it too
    stop: async () => {
      await Promise.race([handle.stop(), postgresGone(pgDir, 100)]);
      log.end();
    },
    kill: () => {}, // embedded-postgres stops it from its own process 'exit' hook
  });
  return handle.url;
}

async function startS3(): Promise<S3Settings> {
  if (env.S3_ENDPOINT) {
    return {
      kind: 'external',
      endpoint: env.S3_ENDPOINT,
      bucket: env.S3_BUCKET || 'stage-outputs',
      region: env.S3_REGION || 'us-east-1',
      accessKeyId: env.S3_ACCESS_KEY_ID,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY,
      prefix: env.S3_PREFIX ?? '',
      forcePathStyle: env.S3_FORCE_PATH_STYLE || 'true',
    };
  }
  const server = await startDefaultStore({
    port: ports.DEV_S3_PORT,
    dataDir,
    logFile: logFile('s3'),
    log: say,
    asked: env.DEV_S3_STORE,
  });
  track(infra, managed(server.process, logFile('s3')));
  const s3: S3Settings = {
    kind: server.kind,
    endpoint: server.endpoint,
    bucket: 'stage-outputs',
    region: 'us-east-1',
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    prefix: '',
    forcePathStyle: 'true',
  };
  const store = new ObjectStore({ ...s3, forcePathStyle: true });
  try {
    await store.ensureBucket();
  } finally {
    store.close();
  }
  return s3;
}

/** The broker of the chosen transport (none for pg-boss: it lives in Postgres), with its data in the data dir. */
async function startBroker(): Promise<{ json: TransportJson | undefined; env: Record<string, string> }> {
  if (transport === 'kafka') {
    const options = {
      port: ports.DEV_KAFKA_PORT,
      controllerPort: ports.DEV_KAFKA_CONTROLLER_PORT,
      saslPort: ports.DEV_KAFKA_SASL_PORT,
      dataDir: path.join(dataDir, 'kafka'),
      logFile: logFile('kafka'),
      log: say,
    };
    // a broker that exits while it starts (seen now and then on a loaded machine) gets one more try
    // on the same data; the second refusal stops the stack
    const kafka = await startKafkaBroker(options).catch((error: Error) => {
      say(`${error.message.split('\n')[0]}; starting it once more (see ${options.logFile})`);
      return startKafkaBroker(options);
    });
    track(infra, managed(kafka.process, logFile('kafka')));
    return {
      json: {
        kind: 'kafka',
        brokers: kafka.brokers,
        ...(kafka.saslSsl && {
          sasl_ssl: {
            brokers: kafka.saslSsl.brokers,
            mechanism: 'scram-sha-512',
            username: kafka.saslSsl.username,
            password: kafka.saslSsl.password,
            ca_file: kafka.saslSsl.caFile,
          },
        }),
      },
      env: { ROUTE_TRANSPORT: 'kafka', KAFKA_BROKERS: kafka.brokers },
    };
  }
  if (transport === 'sqs') {
    const sqs = await startElasticMq({
      port: ports.DEV_SQS_PORT,
      dataDir: path.join(dataDir, 'elasticmq'),
      logFile: logFile('elasticmq'),
      log: say,
    });
    track(infra, managed(sqs.process, logFile('elasticmq')));
    const fifo = env.SQS_FIFO === 'true' || env.SQS_FIFO === '1';
    return {
      json: {
        kind: 'sqs',
        endpoint: sqs.endpoint,
        region: ELASTICMQ_CREDENTIALS.region,
        access_key_id: ELASTICMQ_CREDENTIALS.accessKeyId,
        secret_access_key: ELASTICMQ_CREDENTIALS.secretAccessKey,
        fifo,
      },
      env: {
        ROUTE_TRANSPORT: 'sqs',
        SQS_ENDPOINT: sqs.endpoint,
        SQS_REGION: ELASTICMQ_CREDENTIALS.region,
        SQS_ACCESS_KEY_ID: ELASTICMQ_CREDENTIALS.accessKeyId,
        SQS_SECRET_ACCESS_KEY: ELASTICMQ_CREDENTIALS.secretAccessKey,
        SQS_FIFO: String(fifo),
      },
    };
  }
  return { json: undefined, env: { ROUTE_TRANSPORT: 'pgboss' } };
}

/** Every variable `npm run api` / `npm run worker` need to join this stack. */
function stackEnv(
  temporal: StackTemporal,
  databaseUrl: string,
  s3: S3Settings,
  apiKey: string,
): Record<string, string> {
  return {
    // only the key's hash is configured: the api never holds the key itself
    API_KEYS: apiKeyLine('dev', apiKey),
    ...temporal.env,
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    DATABASE_URL: databaseUrl,
    DATABASE_SCHEMA: 'public',
    PGBOSS_SCHEMA: 'pgboss',
    S3_ENDPOINT: s3.endpoint,
    S3_REGION: s3.region,
    S3_BUCKET: s3.bucket,
    S3_PREFIX: s3.prefix,
    S3_ACCESS_KEY_ID: s3.accessKeyId ?? '',
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey ?? '',
    S3_FORCE_PATH_STYLE: s3.forcePathStyle,
    API_PORT: String(ports.DEV_API_PORT),
    LOG_LEVEL: env.LOG_LEVEL || 'info',
  };
}

function startNodeProcess(name: string, file: string, childEnv: NodeJS.ProcessEnv): ManagedProcess {
  // plain node, not the tsx CLI: signals then reach the process itself rather than a wrapper
  const args = ['--import', 'tsx', path.join(ROOT, file)];
  return startManagedProcess(name, process.execPath, args, {
    logFile: logFile(name),
    env: childEnv,
    cwd: ROOT,
  });
}

async function waitUntilReady(url: string): Promise<boolean> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && !stopping) {
    const status = await fetch(url, { signal: AbortSignal.timeout(5000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return true;
    await sleep(250);
  }
  return false;
}

/** Others poll for these files: they must never see one half-written. */
async function writeAtomically(file: string, text: string): Promise<void> {
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}

async function tail(file: string, lines = 20): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Between steps: a signal or a dying child during startup stops it here. */
function abortIfStopping(): void {
  if (stopping) throw new Error('startup interrupted');
}

async function start(): Promise<void> {
  const startedAt = Date.now();
  await exitIfPortsTaken();
  await mkdir(logDir, { recursive: true });
  await mkdir(runDir, { recursive: true });
  await rm(stackJsonFile, { force: true }); // left by a run that did not stop cleanly
  const temporalCli = await findTemporalCli(say);

  // the workflow bundle, made once beside the services: a restarted worker polls again at once
  const bundle = writeWorkflowBundle(dataDir);
  const postgres = startPostgres();
  // the cluster keeps its state in the stack's Postgres: it starts once Postgres is up
  const temporalStart = temporalKind === 'cluster' ? startCluster(postgres) : startTemporal(temporalCli);
  const starts = [temporalStart, postgres, startS3(), startBroker(), bundle] as const;
  // wait for all before failing on one, so that everything that did start is tracked and gets stopped
  await Promise.allSettled(starts);
  const [temporal, databaseUrl, s3, broker, { codePath: workflowBundlePath }] = await Promise.all(starts);
  abortIfStopping();

  await runMigrations({ databaseUrl, schema: 'public', queueSchema: 'pgboss' }).catch((error: Error) => {
    throw new Error(`migrations on ${databaseUrl} failed: ${error.message}`);
  });
  abortIfStopping();

  const apiKey = await localApiKey();
  const variables = { ...stackEnv(temporal, databaseUrl, s3, apiKey), ...broker.env };
  supervise('api', 'api/main.ts', { ...env, ...variables });
  // two worker processes, one per task queue: a replay's start (the first workflow task and its
  // local activity, on the workflow worker's event loop) then never waits behind the CPU of pages
  // being built and sent; bench/RESULTS.md measures it beside a large replay
  const workerEnv = { ...env, ...variables, WORKFLOW_BUNDLE_PATH: workflowBundlePath };
  supervise('worker', 'worker.ts', { ...workerEnv, WORKER_ROLES: 'workflows' });
  supervise('worker-publish', 'worker.ts', { ...workerEnv, WORKER_ROLES: 'publish' });
  const apiUrl = `http://127.0.0.1:${ports.DEV_API_PORT}`;
  if (!(await waitUntilReady(`${apiUrl}/readyz`))) {
    abortIfStopping();
    throw new Error(
      `the api did not become ready within ${READY_TIMEOUT_MS / 1000} s; last lines of ${logFile('api')}:\n` +
        (await tail(logFile('api'))),
    );
  }

  const stack: StackJson = {
    api_url: apiUrl,
    api_key: apiKey,
    temporal_address: temporal.address,
    temporal_namespace: temporal.namespace,
    temporal_ui_url: temporal.uiUrl ?? null,
    temporal_cli: temporalCli,
    temporal_config_file: temporal.configFile ?? null,
    task_queue: TASK_QUEUE,
    database_url: databaseUrl,
    s3: {
      kind: s3.kind,
      endpoint: s3.endpoint,
      bucket: s3.bucket,
      region: s3.region,
      access_key_id: s3.accessKeyId ?? null,
      secret_access_key: s3.secretAccessKey ?? null,
      prefix: s3.prefix,
    },
    transport: broker.json ?? { kind: 'pgboss', database_url: databaseUrl, schema: 'pgboss' },
  };
  const envLines = Object.entries(variables).map(([name, value]) => `${name}=${value}\n`);
  await writeAtomically(stackEnvFile, envLines.join(''));
  await writeAtomically(stackJsonFile, `${JSON.stringify(stack, null, 2)}\n`);
  printSummary(stack, (Date.now() - startedAt) / 1000);
}

/** The dev stack's API key: made on the first start, kept in the data dir (mode 0600) for the next. */
async function localApiKey(): Promise<string> {
  const file = path.join(dataDir, 'api-key');
  const existing = await readFile(file, 'utf8').catch(() => '');
  if (existing.trim()) return existing.trim();
  const key = generateApiKey();
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  return key;
}

function transportSummary(json: TransportJson): string {
  if (json.kind === 'kafka') return `Kafka topics at ${json.brokers}`;
  if (json.kind === 'sqs') return `SQS ${json.fifo ? 'FIFO ' : ''}queues at ${json.endpoint} (ElasticMQ)`;
  return `pg-boss queues in Postgres (schema ${json.schema})`;
}

function printSummary(stack: StackJson, seconds: number): void {
  const rows: [string, string][] = [
    ['api', stack.api_url],
    ['api docs', `${stack.api_url}/docs`],
    ['api key', `${stack.api_key} (Authorization: Bearer ...)`],
    ['Temporal UI', stack.temporal_ui_url ?? '(none)'],
    [
      'Temporal',
      `${stack.temporal_address} (namespace ${stack.temporal_namespace}${stack.temporal_config_file ? ', cluster with mTLS' : ''})`,
    ],
    ...(stack.temporal_config_file
      ? ([['temporal CLI', `TEMPORAL_CONFIG_FILE=${stack.temporal_config_file} temporal workflow list`]] as [
          string,
          string,
        ][])
      : []),
    ['Postgres', stack.database_url],
    ['S3', `${stack.s3.endpoint} (${stack.s3.kind}, bucket ${stack.s3.bucket})`],
    ['routes', transportSummary(stack.transport)],
    ['data dir', dataDir],
    ['logs', logDir],
  ];
  say(`ready in ${seconds.toFixed(1)} s`);
  for (const [label, value] of rows) process.stdout.write(`  ${label.padEnd(12)} ${value}\n`);
  process.stdout.write(
    `  (endpoints in ${stackJsonFile}, env in ${stackEnvFile}; Ctrl-C stops everything)\n`,
  );
}

/** Stops everything (api and worker first: they use the rest), then exits. Runs once. */
function finish(code: number): Promise<void> {
  stopping = true;
  finishing ??= (async () => {
    // a start still in flight tracks what it started; wait for it so that that is stopped too
    await startup.catch(() => {});
    await Promise.allSettled(apps.map((service) => service.stop()));
    await Promise.allSettled(infra.map((service) => service.stop()));
    await rm(stackJsonFile, { force: true }); // it describes a running stack
    say(code === 0 ? 'stopped' : 'stopped after an error');
    process.exit(code);
  })();
  return finishing;
}

let firstSignalAt = 0;

function onSignal(signal: NodeJS.Signals): void {
  if (!stopping) {
    firstSignalAt = Date.now();
    say(`${signal}: stopping (send it again to force)`);
    void finish(0);
    return;
  }
  // A terminal's Ctrl-C reaches us directly and, a moment later, once more relayed by npm and tsx
  if (Date.now() - firstSignalAt < 1000) return;
  process.stderr.write(`[dev] ${signal} again: killing everything\n`);
  for (const service of [...apps, ...infra]) service.kill();
  process.exit(1);
}

// Importing embedded-postgres installs async-exit-hook handlers that stop Postgres and exit 130 on these
// signals, before the api and the worker are stopped. We do the stopping, so we remove them.
// (Under the tsx CLI, process.listeners() hides tsx's own signal relay, which stays.)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  for (const listener of process.listeners(signal)) process.removeListener(signal, listener);
  process.on(signal, onSignal);
}

startup = start();
startup.catch((error: unknown) => {
  if (!stopping) process.stderr.write(`[dev] ${error instanceof Error ? error.message : String(error)}\n`);
  void finish(1);
});
