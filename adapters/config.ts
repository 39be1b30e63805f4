import { z } from 'zod';

/**
 * Every setting of the api and the worker, read from environment variables once at start.
 * Both processes share one schema so that `.data/stack.env` and docker-compose set one list.
 */
const booleanFromEnv = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

const positiveInt = z.coerce.number().int().positive();

export const configSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('execution-replay'),

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

  API_HOST: z.string().min(1).default('0.0.0.0'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Bound on every call the api makes to Temporal, Postgres or S3 while serving a request. */
  DEPENDENCY_TIMEOUT_MS: positiveInt.default(3000),

  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  /** Keys per storage page (S3 caps ListObjectsV2 at 1,000). */
  REPLAY_PAGE_SIZE: positiveInt.max(1000).default(1000),
  /** Pages a workflow run handles before it continues as new (also at 2 MB of history), to keep history bounded. */
  REPLAY_PAGES_PER_RUN: positiveInt.default(20),
  /** Attempts of one replay step (with backoff up to 30 s) before the execution becomes `interrupted`. */
  REPLAY_STEP_MAX_ATTEMPTS: positiveInt.default(10),
  /** Start-to-close timeout of one list or publish step: how soon a step lost with a dead worker is retried. */
  REPLAY_ACTIVITY_TIMEOUT_SECONDS: positiveInt.default(60),
  /** How often the reconciler looks for replays whose workflow closed outside the service. */
  RECONCILE_INTERVAL_SECONDS: positiveInt.default(60),
});

export type AppConfig = z.infer<typeof configSchema>;

/** Variables without a default: every process and every deployment must set them. */
export const requiredVariables = Object.entries(configSchema.shape)
  .filter(([, schema]) => !schema.safeParse(undefined).success)
  .map(([name]) => name);

export class ConfigError extends Error {}

/** Parses the environment; throws ConfigError naming the first bad variable. */
export function parseConfig(env: NodeJS.ProcessEnv): AppConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = configSchema.safeParse(cleaned);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = String(issue.path[0]);
  const message =
    issue.code === 'invalid_type' && cleaned[name] === undefined ? 'is required' : issue.message;
  throw new ConfigError(`configuration error: ${name} ${message}`);
}

/** For process entry points: a bad value prints one line and exits with code 2. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): AppConfig {
  try {
    return parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}
