/** The api process: `npm run api`, configured only by environment variables. */
import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { loadConfigOrExit } from '../adapters/config.ts';
import { createPool } from '../adapters/database.ts';
import { createLogger } from '../adapters/logger.ts';
import { enableProcessMetrics } from '../adapters/metrics.ts';
import { ObjectStore, objectStoreOptionsFromConfig } from '../adapters/object-store.ts';
import { createRouteTransport } from '../adapters/route-transport.ts';
import { initTracing, temporalClientInterceptors } from '../adapters/tracing.ts';
import { createApp } from './app.ts';
import { apiSettingsFromConfig } from './context.ts';
import { loadApiAuthOrExit } from './auth.ts';
import { limitsFromConfig } from './limits.ts';

const config = loadConfigOrExit();
// API_KEYS / API_KEYS_FILE: without a key (and AUTH_REQUIRED not false) the api does not start
const auth = loadApiAuthOrExit(config);
const logger = createLogger(config.LOG_LEVEL, { process: 'api' });
if (!auth.required) {
  logger.warn(
    'AUTH_REQUIRED=false: every request is served without an API key; for local development only, never in a shared deployment',
  );
}
// off unless OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_TRACES_EXPORTER ask for traces (adapters/tracing.ts)
const tracing = initTracing({ serviceName: 'execution-replay-api' });
enableProcessMetrics();
const timeoutMs = config.DEPENDENCY_TIMEOUT_MS;
const pool = createPool({
  url: config.DATABASE_URL,
  schema: config.DATABASE_SCHEMA,
  poolMax: config.DATABASE_POOL_MAX,
  queryTimeoutMs: timeoutMs,
  applicationName: 'execution-replay-api',
});
// Lazy: the api starts (and answers 503) while Temporal is down, and connects when it comes back.
const connection = Connection.lazy({ address: config.TEMPORAL_ADDRESS, connectTimeout: timeoutMs });
const temporal = new Client({
  connection,
  namespace: config.TEMPORAL_NAMESPACE,
  // with tracing on, the replay workflow joins the trace of the request that started it
  interceptors: { workflow: temporalClientInterceptors() },
});
const objectStore = new ObjectStore({ ...objectStoreOptionsFromConfig(config), requestTimeoutMs: timeoutMs });
// a normal execution's init message goes to its entry route on the configured transport
const routeTransport = createRouteTransport(config, pool, logger);
await routeTransport.start();

const app = createApp({
  pool,
  temporal,
  objectStore,
  routeTransport,
  logger,
  auth,
  limits: limitsFromConfig(config),
  settings: apiSettingsFromConfig(config),
});

const server = serve({ fetch: app.fetch, hostname: config.API_HOST, port: config.API_PORT }, (info) => {
  logger.info(
    {
      url: `http://${info.address}:${info.port}`,
      tracing: Boolean(tracing),
      auth_required: auth.required,
      api_keys: auth.keys.map((key) => `${key.name} (${key.scope})`),
      public_health_endpoints: auth.publicHealth,
    },
    'api listening',
  );
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'api stopping');
  server.close();
  await Promise.allSettled([routeTransport.close(), pool.end(), connection.close(), tracing?.shutdown()]);
  objectStore.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
