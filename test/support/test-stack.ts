import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type pg from 'pg';
import { inject } from 'vitest';
import { parseConfig, type AppConfig } from '../../adapters/config.ts';
import { createLogger, type Logger } from '../../adapters/logger.ts';
import { runMigrations } from '../../adapters/migrate.ts';
import type { ObjectStore } from '../../adapters/object-store.ts';
import { createRouteReader, type RouteReader } from '../../adapters/route-reader.ts';
import type { RouteTransport } from '../../adapters/route-transport.ts';
import type { App } from '../../api/app.ts';
import { apiKeyLine, generateApiKey, type ApiAuthOptions } from '../../api/auth.ts';
import type { ApiLimits } from '../../api/limits.ts';
import { createApiServer } from '../../api/server.ts';
import { createReplayWorker, type ReplayWorkerHandle } from '../../worker.ts';
import type { TestStackInfo } from './stack-info.ts';
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

let runtimeInstalled = false;

/**
 * This file's slice of the shared services: its own schema, queue schema, bucket prefix and task
 * queue, migrated with the real migrations; plus the api app and (on demand) a real worker. Outside
 * vitest (scripts/record-histories.ts) the caller passes the services the global setup started.
 */
export async function createTestStack(
  overrides: Partial<Record<string, string>> = {},
  options: { transport?: TestTransport; services?: TestStackInfo } = {},
): Promise<TestStack> {
  const services = options.services;
  const stack = services ?? inject('stack');
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
    // tests start many replays at once on purpose (idempotent joins); overload has its own test
    API_MAX_STARTS_IN_FLIGHT: '1000',
    // shared machines are slow: a dependency call of the api gives up after 10 s, not 3
    DEPENDENCY_TIMEOUT_MS: '10000',
    // the workers of a test make no reconciler schedule, unless the test is about it
    RECONCILER_SCHEDULE: 'false',
    ...transportEnv(options.transport ?? 'pgboss', stack, `t-${suffix}`),
    ...overrides,
  });
  await runMigrations({
    databaseUrl: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    queueSchema: config.PGBOSS_SCHEMA,
  });

  // the api as api/main.ts builds it; the tests read and write through its pool and clients
  const logger = createLogger(config.LOG_LEVEL, { test: suffix });
  const server = createApiServer(config, { logger });
  const { app, dependencies } = server;
  const { pool, objectStore, routeTransport, temporal, auth, limits } = dependencies;
  await server.start();
  const routeReader = createRouteReader(config, pool, logger);

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
        handle.shutdown();
        await running.catch(() => {});
      }
      await routeReader.close().catch(() => {});
      await server.close();
    },
  };
}
