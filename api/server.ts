/**
 * The api's factory, beside the worker's createReplayWorker: from the configuration it builds the
 * Postgres pool, the Temporal client, the object store, the route queue, authentication and limits,
 * and the Hono app over them. api/main.ts serves it; the tests call app.request() on it. Nothing
 * connects until a request needs it, so the api starts (and answers 503) while a dependency is down.
 */
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import type { AppConfig } from '../adapters/config.ts';
import { createPool } from '../adapters/database.ts';
import { createLogger, type Logger } from '../adapters/logger.ts';
import { ObjectStore, objectStoreOptionsFromConfig } from '../adapters/object-store.ts';
import { createRouteTransport } from '../adapters/route-transport.ts';
import { clientConnectionOptions } from '../adapters/temporal-connection.ts';
import { temporalClientInterceptors } from '../adapters/tracing.ts';
import { createApp, type App } from './app.ts';
import { loadApiAuth, type ApiAuthOptions } from './auth.ts';
import {
  apiSettingsFromConfig,
  type ApiDependencies,
  type ApiSettings,
  type DrainState,
} from './dependencies.ts';
import { limitsFromConfig, type ApiLimits } from './limits.ts';

export interface ApiServerOptions {
  logger?: Logger;
  /** Default: from API_KEYS, API_KEYS_FILE and AUTH_REQUIRED (loadApiAuth, which throws ConfigError). */
  auth?: ApiAuthOptions;
  /** Over the settings the configuration gives. */
  settings?: Partial<ApiSettings>;
}

export interface ApiServer {
  app: App;
  /** What the app was built with: the tests read and write through the same pool and clients. */
  dependencies: ApiDependencies & { auth: ApiAuthOptions; limits: ApiLimits; drain: DrainState };
  /** Connects the route transport (listen does it first); for apps called with app.request(). */
  start(): Promise<void>;
  /** Serves the app on API_HOST:API_PORT (port 0: any free port); resolves once it listens. */
  listen(): Promise<AddressInfo>;
  /** Stops listening and closes the pool and the clients. */
  close(): Promise<void>;
  /**
   * The graceful stop (SIGTERM): /readyz turns 503, the listener closes (new connections are refused),
   * idle kept-alive connections close, the requests in flight are answered; then close(). Past graceMs
   * the connections still open are cut. Resolves true when every request in flight was answered.
   */
  drain(graceMs: number): Promise<boolean>;
}

export function createApiServer(config: AppConfig, options: ApiServerOptions = {}): ApiServer {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL, { process: 'api' });
  const auth = options.auth ?? loadApiAuth(config);
  const settings = apiSettingsFromConfig(config, options.settings);
  const timeoutMs = settings.dependencyTimeoutMs;
  const pool = createPool({
    url: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    poolMax: config.DATABASE_POOL_MAX,
    queryTimeoutMs: timeoutMs,
    applicationName: 'execution-replay-api',
    logger,
  });
  const connection = Connection.lazy(clientConnectionOptions(config.temporal, { connectTimeout: timeoutMs }));
  const temporal = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    // with tracing on, the replay workflow joins the trace of the request that started it
    interceptors: { workflow: temporalClientInterceptors() },
  });
  const objectStore = new ObjectStore({
    ...objectStoreOptionsFromConfig(config),
    requestTimeoutMs: timeoutMs,
  });
  // a normal execution's init message goes to its entry route on the configured transport
  const routeTransport = createRouteTransport(config, pool, logger);
  let transportStarted: Promise<void> | undefined;
  const start = () => (transportStarted ??= routeTransport.start());
  const drainState = { draining: false };
  const dependencies = {
    drain: drainState,
    pool,
    temporal,
    objectStore,
    routeTransport,
    logger,
    auth,
    limits: limitsFromConfig(config),
    settings,
  };
  const app = createApp(dependencies);
  let server: ServerType | undefined;
  const close = async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await Promise.allSettled([
      // a transport whose start failed may hold a connection too
      transportStarted?.catch(() => {}).then(() => routeTransport.close()),
      pool.end(),
      connection.close(),
    ]);
    objectStore.close();
  };

  return {
    app,
    dependencies,
    start,
    async listen() {
      await start();
      return new Promise((resolve, reject) => {
        server = serve({ fetch: app.fetch, hostname: config.API_HOST, port: config.API_PORT }, (info) =>
          resolve(info),
        );
        server.once('error', reject);
      });
    },
    close,
    async drain(graceMs) {
      drainState.draining = true;
      // serve() without TLS or HTTP/2 options makes a node:http server
      const listening = server as HttpServer | undefined;
      if (!listening) {
        await close();
        return true;
      }
      // close() stops accepting at once and calls back once the last connection has ended
      const answered = new Promise<boolean>((resolve) => listening.close(() => resolve(true)));
      listening.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const cut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => {
          logger.warn({ grace_ms: graceMs }, 'api grace period over: cutting the connections still open');
          listening.closeAllConnections();
          resolve(false);
        }, graceMs);
      });
      const drained = await Promise.race([answered, cut]);
      clearTimeout(timer);
      server = undefined;
      await close();
      return drained;
    },
  };
}
