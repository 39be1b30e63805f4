import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  TemporalSettingError,
  temporalSettingsFromEnv,
  type TemporalConnectionSettings,
} from './temporal-connection.ts';

/**
 * Every setting of the api and the worker, read from environment variables once at start.
 * Both processes share one schema so that `.data/stack.env` and docker-compose set one list.
 */
const booleanFromEnv = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().min(0);

/** One API key entry: `[name:]sha256hex[:read|write]` (the key's SHA-256, never the key itself). */
export interface ApiKeyEntry {
  name: string;
  /** Lower-case hex SHA-256 of the key. */
  hash: string;
  /** `read`: GET and HEAD only; `write`: every method. */
  scope: 'read' | 'write';
}

const KEY_HASH = /^[0-9a-fA-F]{64}$/;
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;
const KEY_SCOPES = new Set(['read', 'write']);
export const API_KEY_ENTRY_FORMAT = '[name:]sha256hex[:read]';

/**
 * Parses one `[name:]sha256hex[:read|write]` entry of API_KEYS or API_KEYS_FILE. The reason of a
 * refusal never repeats the entry: a key pasted where its hash belongs must not reach a log.
 */
export function parseApiKeyEntry(entry: string): ApiKeyEntry | { error: string } {
  const parts = entry.trim().split(':');
  let name: string | undefined;
  let hash: string;
  let scope = 'write';
  if (parts.length === 1) [hash] = parts as [string];
  else if (parts.length === 2 && KEY_SCOPES.has(parts[1]!) && KEY_HASH.test(parts[0]!))
    [hash, scope] = parts as [string, string];
  else if (parts.length === 2) [name, hash] = parts as [string, string];
  else if (parts.length === 3) [name, hash, scope] = parts as [string, string, string];
  else return { error: `must be ${API_KEY_ENTRY_FORMAT}` };
  if (hash.startsWith('er_'))
    return { error: 'is an API key, not its hash (`npm run api-key` prints the line to configure)' };
  if (!KEY_HASH.test(hash)) return { error: `must be ${API_KEY_ENTRY_FORMAT} (the hash: 64 hex digits)` };
  if (name !== undefined && !KEY_NAME.test(name))
    return { error: 'has a bad name (1-64 letters, digits, "_", ".", "@" or "-")' };
  if (!KEY_SCOPES.has(scope)) return { error: 'has an unknown scope (`read` or `write`)' };
  const lower = hash.toLowerCase();
  return { name: name ?? `key-${lower.slice(0, 8)}`, hash: lower, scope: scope as 'read' | 'write' };
}

/** API_KEYS: comma-separated entries; empty entries are ignored. */
export function apiKeysFromList(list: string): (ApiKeyEntry | { error: string })[] {
  return list
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map(parseApiKeyEntry);
}

/** The SASL mechanisms of KAFKA_SASL_MECHANISM. */
export const kafkaSaslMechanisms = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

/** The route transports (adapters/transports/). */
export const routeTransportKinds = ['pgboss', 'kafka', 'sqs'] as const;

const configFields = z.object({
  // Temporal's own environment configuration (adapters/temporal-connection.ts resolves them with the
  // profile of TEMPORAL_CONFIG_FILE, as the `temporal` CLI does); defaults: localhost:7233, `default`
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).optional(),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS: z.string().optional(),
  TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  TEMPORAL_PROFILE: z.string().min(1).optional(),
  TEMPORAL_CONFIG_FILE: z.string().min(1).optional(),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('execution-replay'),
  /** Task queue of the long list-and-publish activities; default `<TEMPORAL_TASK_QUEUE>-publish`. */
  TEMPORAL_PUBLISH_TASK_QUEUE: z.string().min(1).optional(),
  /** What this worker process polls: `workflows` (replay starts, workflow tasks), `publish` (list and publish), or both. */
  WORKER_ROLES: z
    .string()
    .transform((value) => value.split(',').map((role) => role.trim()))
    .pipe(z.array(z.enum(['workflows', 'publish'])).min(1))
    .default(['workflows', 'publish']),
  /** Publishing activities one worker process runs at once (each holds a database connection while it commits a page). */
  WORKER_PUBLISH_CONCURRENCY: positiveInt.default(8),

  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL'),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL identifier')
    .default('public'),
  PGBOSS_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL identifier')
    .default('pgboss'),
  DATABASE_POOL_MAX: positiveInt.default(10),

  S3_ENDPOINT: z.url().optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_BUCKET: z.string().min(3, 'must be at least 3 characters'),
  S3_PREFIX: z
    .string()
    .regex(/^([^/].*\/)?$/, 'must be empty or end with "/" and not start with "/"')
    .default(''),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_FORCE_PATH_STYLE: booleanFromEnv.optional(),

  /** Hashes of the accepted bearer keys (`npm run api-key` makes one): `[name:]sha256hex[:read]`, comma-separated. */
  API_KEYS: z
    .string()
    .superRefine((list, context) => {
      apiKeysFromList(list).forEach((entry, index) => {
        if ('error' in entry)
          context.addIssue({ code: 'custom', message: `entry ${index + 1} ${entry.error}` });
      });
    })
    .optional(),
  /** A file of `name:sha256hex[:read]` lines (`#` comments), read by the api at start. */
  API_KEYS_FILE: z.string().min(1).optional(),
  /** `false` serves the api without authentication: local development only (a warning at start). */
  AUTH_REQUIRED: booleanFromEnv.default(true),
  /** `/healthz`, `/readyz` and `/metrics` without a key; `false` closes them with the same keys. */
  PUBLIC_HEALTH_ENDPOINTS: booleanFromEnv.default(true),
  /** Largest request body; past it: 413. */
  MAX_BODY_BYTES: positiveInt.default(1_048_576),
  /** Requests that change something (POST) per key and minute, as a token bucket; 0 turns it off. */
  RATE_LIMIT_PER_MINUTE: nonNegativeInt.default(600),
  /** GET requests per key and minute; 0 turns it off. */
  RATE_LIMIT_READ_PER_MINUTE: nonNegativeInt.default(6000),

  API_HOST: z.string().min(1).default('0.0.0.0'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Bound on every call the api makes to Temporal, Postgres or S3 while serving a request. */
  DEPENDENCY_TIMEOUT_MS: positiveInt.default(3000),
  /** Replay and bulk replay starts one api process waits on at once; past it: 503 OVERLOADED with Retry-After. */
  API_MAX_STARTS_IN_FLIGHT: positiveInt.default(16),

  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  /** Keys per replay page: one listStoragePage + one publishBatch (several S3 listings past 1,000). */
  REPLAY_PAGE_SIZE: positiveInt.max(10_000).default(5000),
  /** Pages a workflow run handles before it continues as new (also at 2 MB of history), to keep history bounded. */
  REPLAY_PAGES_PER_RUN: positiveInt.default(20),
  /** Attempts of one replay step (with backoff up to 30 s) before the execution becomes `interrupted`. */
  REPLAY_STEP_MAX_ATTEMPTS: positiveInt.default(10),
  /** Start-to-close bound of one publishing activity (a slice of pages); a dead worker is noticed sooner, by its heartbeat. */
  REPLAY_ACTIVITY_TIMEOUT_SECONDS: positiveInt.default(300),
  /** A publishing activity that has not heartbeaten (once a page) for this long is retried on another worker. */
  REPLAY_HEARTBEAT_TIMEOUT_SECONDS: positiveInt.default(10),
  /** Seconds one publishing activity runs before it reports progress to the workflow. */
  REPLAY_SLICE_SECONDS: positiveInt.default(30),
  /** Partitions a large replay is split into, each published by its own child workflow; 1: never split. */
  REPLAY_MAX_PARTITIONS: positiveInt.max(256).default(8),
  /** Partitions of one replay published at once. */
  REPLAY_PARTITIONS_IN_FLIGHT: positiveInt.max(256).default(8),
  /** Pages a replay publishes as one before it is split: a replay done by then is never partitioned. */
  REPLAY_PARTITION_AFTER_PAGES: positiveInt.default(4),
  /** Parents a bulk replay checks (and gives execution ids) per step. */
  BULK_REPLAY_WINDOW_SIZE: positiveInt.max(1000).default(50),
  /** Children one run of a bulk replay's workflow starts before it continues as new (bounds its history). */
  BULK_REPLAY_CHILDREN_PER_RUN: positiveInt.max(2000).default(500),
  /** api only: keys a replay preview lists within its request (also bounded by half of DEPENDENCY_TIMEOUT_MS) before it continues as a preview job. */
  PREVIEW_INLINE_MAX_KEYS: positiveInt.default(100_000),
  /** api only: the publish rate (messages/s) a preview's estimate assumes for a replay no limit slows down. */
  PREVIEW_PUBLISH_RATE: positiveInt.default(10_000),
  /** How often the reconciler looks for replays whose workflow closed outside the service. */
  RECONCILE_INTERVAL_SECONDS: positiveInt.default(60),
  /** Worker only: creates the reconciler's Schedule, or brings its interval up to date; `false` leaves it alone. */
  RECONCILER_SCHEDULE: booleanFromEnv.default(true),
  /** Worker only: serves its Prometheus metrics on GET /metrics at this port (0: any free port); off when unset. */
  WORKER_METRICS_PORT: z
    .string()
    .regex(/^\d{1,5}$/, 'must be a port number')
    .transform(Number)
    .refine((port) => port <= 65535, 'must be a port number')
    .optional(),
  /**
   * Worker only: on SIGTERM, how long running activities may take to finish (a publishing slice ends
   * after its current page) before they are cancelled; the process exits once they are done.
   */
  WORKER_SHUTDOWN_GRACE_SECONDS: positiveInt.default(30),
  /**
   * Api only: on SIGTERM the api stops accepting connections and answers /readyz 503; the requests in
   * flight get this many seconds to finish before their connections are cut (then it exits 1, not 0).
   */
  API_SHUTDOWN_GRACE_SECONDS: positiveInt.default(20),
  /** Worker only: bound on each Postgres query of an activity (and on the wait for a connection). */
  WORKER_DATABASE_TIMEOUT_MS: positiveInt.default(60_000),
  /** Worker only: bound on each S3 request of an activity. */
  WORKER_S3_TIMEOUT_MS: positiveInt.default(30_000),
  /** Worker only: a workflow bundle built beforehand (`npm run dev` and the bench make one), so a restarted worker polls at once. */
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),

  /** Where the routes are (adapters/route-transport.ts): pg-boss queues in this Postgres, Kafka topics or SQS queues. */
  ROUTE_TRANSPORT: z.enum(routeTransportKinds).default('pgboss'),
  /** A route's queue or topic name: `{route}` is replaced by the route's name, e.g. `replay.{route}`. */
  ROUTE_NAME_TEMPLATE: z
    .string()
    .min(1)
    .refine((template) => template.includes('{route}'), 'must contain {route}')
    .default('{route}'),
  /** Kafka bootstrap brokers, `host:port` comma-separated (required with ROUTE_TRANSPORT=kafka). */
  KAFKA_BROKERS: z
    .string()
    .transform((list) =>
      list
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== ''),
    )
    .pipe(
      z
        .array(z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'must be host:port entries'))
        .min(1, 'must name at least one host:port'),
    )
    .optional(),
  KAFKA_CLIENT_ID: z.string().min(1).default('execution-replay'),
  /** Whether startRoutes creates a missing topic (else it fails naming it). */
  KAFKA_CREATE_TOPICS: booleanFromEnv.default(true),
  /** Partitions of a topic the service creates; unset: the broker's `num.partitions`. */
  KAFKA_TOPIC_PARTITIONS: positiveInt.max(10_000).optional(),
  /** Replicas of a topic the service creates; unset: the broker's `default.replication.factor`. */
  KAFKA_TOPIC_REPLICATION: positiveInt.max(32).optional(),
  /** SASL on the Kafka connections (with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD); unset: none. */
  KAFKA_SASL_MECHANISM: z
    .string()
    .transform((value) => value.toLowerCase())
    .pipe(z.enum(kafkaSaslMechanisms, { error: 'must be plain, scram-sha-256 or scram-sha-512' }))
    .optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  /** (or KAFKA_SASL_PASSWORD_FILE) */
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  /** TLS on the Kafka connections; default: on when a KAFKA_TLS_* file is set. */
  KAFKA_TLS: booleanFromEnv.optional(),
  /** PEM file of the CAs that sign the brokers' certificates; unset: Node.js's own CAs. */
  KAFKA_TLS_CA_FILE: z.string().min(1).optional(),
  /** PEM client certificate (with KAFKA_TLS_KEY_FILE), for brokers that ask for one (mTLS). */
  KAFKA_TLS_CERT_FILE: z.string().min(1).optional(),
  KAFKA_TLS_KEY_FILE: z.string().min(1).optional(),
  /** SQS-compatible endpoint (e.g. ElasticMQ); unset: AWS's endpoint of SQS_REGION. */
  SQS_ENDPOINT: z.url().optional(),
  SQS_REGION: z.string().min(1).default('us-east-1'),
  SQS_ACCESS_KEY_ID: z.string().min(1).optional(),
  SQS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** FIFO queues (`<name>.fifo`): the message id is the deduplication id. */
  SQS_FIFO: booleanFromEnv.default(false),
  /** Whether startRoutes creates a missing queue (else it fails naming it). */
  SQS_CREATE_QUEUES: booleanFromEnv.default(true),
  /** SendMessageBatch calls (10 messages each) in flight per publish. */
  SQS_SEND_CONCURRENCY: positiveInt.max(256).default(16),
});

export const configSchema = configFields.superRefine((config, context) => {
  if (config.ROUTE_TRANSPORT === 'kafka' && !config.KAFKA_BROKERS)
    context.addIssue({
      code: 'custom',
      path: ['KAFKA_BROKERS'],
      message: 'is required when ROUTE_TRANSPORT is kafka',
    });
  const issue = (name: string, message: string) =>
    context.addIssue({ code: 'custom', path: [name], message });
  if (config.KAFKA_SASL_MECHANISM) {
    if (!config.KAFKA_SASL_USERNAME)
      issue('KAFKA_SASL_USERNAME', 'is required when KAFKA_SASL_MECHANISM is set');
    if (!config.KAFKA_SASL_PASSWORD)
      issue(
        'KAFKA_SASL_PASSWORD',
        'is required when KAFKA_SASL_MECHANISM is set (or KAFKA_SASL_PASSWORD_FILE)',
      );
  } else if (config.KAFKA_SASL_USERNAME || config.KAFKA_SASL_PASSWORD) {
    issue('KAFKA_SASL_MECHANISM', 'is required with KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD');
  }
  if (Boolean(config.KAFKA_TLS_CERT_FILE) !== Boolean(config.KAFKA_TLS_KEY_FILE))
    issue(
      config.KAFKA_TLS_CERT_FILE ? 'KAFKA_TLS_KEY_FILE' : 'KAFKA_TLS_CERT_FILE',
      'is required with the other of KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE',
    );
  const tlsFiles = ['KAFKA_TLS_CA_FILE', 'KAFKA_TLS_CERT_FILE', 'KAFKA_TLS_KEY_FILE'] as const;
  const tlsFile = tlsFiles.find((name) => config[name]);
  if (config.KAFKA_TLS === false && tlsFile) issue('KAFKA_TLS', `is false, yet ${tlsFile} is set`);
  if (Boolean(config.SQS_ACCESS_KEY_ID) !== Boolean(config.SQS_SECRET_ACCESS_KEY))
    issue(
      config.SQS_ACCESS_KEY_ID ? 'SQS_SECRET_ACCESS_KEY' : 'SQS_ACCESS_KEY_ID',
      'is required with the other of SQS_ACCESS_KEY_ID and SQS_SECRET_ACCESS_KEY (or neither: the SDK default chain)',
    );
  if (config.REPLAY_SLICE_SECONDS >= config.REPLAY_ACTIVITY_TIMEOUT_SECONDS)
    context.addIssue({
      code: 'custom',
      path: ['REPLAY_SLICE_SECONDS'],
      message: 'must be below REPLAY_ACTIVITY_TIMEOUT_SECONDS',
    });
});

/** The parsed settings, with the Temporal target resolved (TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE as connected to). */
export type AppConfig = Omit<z.infer<typeof configSchema>, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'> & {
  TEMPORAL_ADDRESS: string;
  TEMPORAL_NAMESPACE: string;
  /** Every Temporal connection of the process is made from these (adapters/temporal-connection.ts). */
  temporal: TemporalConnectionSettings;
};

/** The publish task queue: its own setting, or the workflow task queue's name with `-publish`. */
export function publishTaskQueueOf(config: AppConfig): string {
  return config.TEMPORAL_PUBLISH_TASK_QUEUE ?? `${config.TEMPORAL_TASK_QUEUE}-publish`;
}

/** Variables without a default: every process and every deployment must set them. */
export const requiredVariables = Object.entries(configSchema.shape)
  .filter(([, schema]) => !schema.safeParse(undefined).success)
  .map(([name]) => name);

export class ConfigError extends Error {}

/** Parses the environment; throws ConfigError naming the first bad variable. */
export function parseConfig(env: NodeJS.ProcessEnv): AppConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = configSchema.safeParse(cleaned);
  if (result.success) {
    let temporal: TemporalConnectionSettings;
    try {
      temporal = temporalSettingsFromEnv(cleaned);
    } catch (error) {
      if (error instanceof TemporalSettingError)
        throw new ConfigError(`configuration error: ${error.message}`);
      throw error;
    }
    return {
      ...result.data,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      temporal,
    };
  }
  const issue = result.error.issues[0]!;
  const name = String(issue.path[0]);
  const message =
    issue.code === 'invalid_type' && cleaned[name] === undefined ? 'is required' : issue.message;
  throw new ConfigError(`configuration error: ${name} ${message}`);
}

/** Secrets that may come from a file instead (`<NAME>_FILE`, e.g. a container secret), not from the environment. */
export const fileVariables = [
  'DATABASE_URL',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'SQS_ACCESS_KEY_ID',
  'SQS_SECRET_ACCESS_KEY',
  'KAFKA_SASL_PASSWORD',
  'TEMPORAL_API_KEY',
] as const;

/** The environment with each `<NAME>_FILE` of fileVariables read into `<NAME>` (one trailing newline dropped). */
export function withFileVariables(
  env: NodeJS.ProcessEnv,
  readFile: (file: string) => string = (file) => readFileSync(file, 'utf8'),
): NodeJS.ProcessEnv {
  const resolved = { ...env };
  for (const name of fileVariables) {
    const file = env[`${name}_FILE`];
    if (!file) continue;
    if (env[name]) throw new ConfigError(`configuration error: set ${name} or ${name}_FILE, not both`);
    let text: string;
    try {
      text = readFile(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new ConfigError(`configuration error: ${name}_FILE cannot be read (${code})`);
    }
    resolved[name] = text.replace(/\r?\n$/, '');
  }
  return resolved;
}

/** For process entry points: a bad value prints one line and exits with code 2. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): AppConfig {
  return exitOnConfigError(() => parseConfig(withFileVariables(env)));
}

/** Runs a step of a process's start; a ConfigError it throws prints its one line and exits with code 2. */
export function exitOnConfigError<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}
