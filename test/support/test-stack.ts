import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type pg from 'pg';
import { inject } from 'vitest';
import { parseConfig, type AppConfig } from '../../adapters/config.ts';
import { createPool } from '../../adapters/database.ts';
import { createLogger, type Logger } from '../../adapters/logger.ts';
import { runMigrations } from '../../adapters/migrate.ts';
import { ObjectStore, objectStoreOptionsFromConfig } from '../../adapters/object-store.ts';
import {
  createRouteReader,
  createRouteTransport,
  type RouteReader,
  type RouteTransport,
} from '../../adapters/route-transport.ts';
import { createApp, type App } from '../../api/app.ts';
import { apiSettingsFromConfig } from '../../api/context.ts';
import { apiKeyLine, generateApiKey, loadApiAuth, type ApiAuthOptions } from '../../api/auth.ts';
import { limitsFromConfig, type ApiLimits } from '../../api/limits.ts';
import { createReplayWorker, type ReplayWorkerHandle } from '../../worker.ts';
import './stack-info.ts';
import { transportEnv, type TestTransport } from './transports.ts';

export interface TestStack {
  config: AppConfig;
  pool: pg.Pool;
  objectStore: ObjectStore;
  /** The api's route transport (ROUTE_TRANSPORT); the worker builds its own. */
  routeTransport: RouteTransport;
  /** Reads the routes back (every transport). */
  routeReader: RouteReader;
  temporal: Client;
  logger: Logger;
  app: App;
  /** This file's API key (its hash is in config.API_KEYS); fixtures.requestJson sends it. */
  apiKey: string;
  /** `{ authorization: 'Bearer <apiKey>' }`, for direct app.request calls. */
  authHeaders: Record<string, string>;
  /** What the app was built with, for tests that build another app on this stack. */
  auth: ApiAuthOptions;
  limits: ApiLimits;
  /** Starts a worker on this file's task queue; stop it with its shutdown() and await the returned run. */
  startWorker(identity?: string): Promise<{ handle: ReplayWorkerHandle; running: Promise<void> }>;
  close(): Promise<void>;
}

/**
 * This file's slice of the shared services: its own schema, queue schema, bucket prefix and task
 * queue, migrated with the real migrations; plus the api app and (on demand) a real worker.
 */
let runtimeInstalled = false;

export async function createTestStack(
  overrides: Partial<Record<string, string>> = {},
  options: { transport?: TestTransport } = {},
): Promise<TestStack> {
  const stack = inject('stack');
  if (!runtimeInstalled) {
    // the SDK's own logs only when something is wrong
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const suffix = randomBytes(4).toString('hex');
  // a key per file, configured by its hash as in production; rate limits far above what tests send
  const apiKey = generateApiKey();
  const config = parseConfig({
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: `test-${suffix}`,
    DATABASE_URL: stack.databaseUrl,
    DATABASE_SCHEMA: `t_${suffix}`,
    PGBOSS_SCHEMA: `t_${suffix}_queue`,
    S3_ENDPOINT: stack.s3.endpoint,
    S3_BUCKET: stack.s3.bucket,
    S3_REGION: stack.s3.region,
    S3_PREFIX: `t-${suffix}/`,
    S3_ACCESS_KEY_ID: stack.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: stack.s3.secretAccessKey,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    API_KEYS: apiKeyLine(`test-${suffix}`, apiKey),
    RATE_LIMIT_PER_MINUTE: '1000000',
    RATE_LIMIT_READ_PER_MINUTE: '1000000',
    ...transportEnv(options.transport ?? 'pgboss', stack, `t-${suffix}`),
    ...overrides,
  });
  await runMigrations({
    databaseUrl: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    queueSchema: config.PGBOSS_SCHEMA,
  });

  const logger = createLogger(config.LOG_LEVEL, { test: suffix });
  const pool = createPool({
    url: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    poolMax: 10,
    queryTimeoutMs: 30_000,
    applicationName: 'test',
  });
  const objectStore = new ObjectStore(objectStoreOptionsFromConfig(config));
  const routeTransport = createRouteTransport(config, pool, logger);
  await routeTransport.start();
  const routeReader = createRouteReader(config, pool, logger);
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const auth = loadApiAuth(config);
  const limits = limitsFromConfig(config);
  const app = createApp({
    pool,
    temporal,
    objectStore,
    routeTransport,
    logger,
    auth,
    limits,
    settings: apiSettingsFromConfig(config, { dependencyTimeoutMs: 10_000 }),
  });

  const workers: { handle: ReplayWorkerHandle; running: Promise<void> }[] = [];
  return {
    config,
    pool,
    objectStore,
    routeTransport,
    routeReader,
    temporal,
    logger,
    app,
    apiKey,
    authHeaders: { authorization: `Bearer ${apiKey}` },
    auth,
    limits,
    async startWorker(identity) {
      const handle = await createReplayWorker(config, {
        logger,
        identity,
        workflowBundle: { codePath: stack.workflowBundlePath },
      });
      const running = handle.run();
      const entry = { handle, running };
      workers.push(entry);
      return entry;
    },
    async close() {
      for (const { handle, running } of workers) {
        if (handle.worker.getState() === 'RUNNING') handle.shutdown();
        await running.catch(() => {});
      }
      await routeReader.close().catch(() => {});
      await routeTransport.close().catch(() => {});
      await pool.end();
      objectStore.close();
      await connection.close();
    },
  };
}
