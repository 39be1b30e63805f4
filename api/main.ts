/** The api process: `npm run api`, configured only by environment variables. */
import { ConfigError, exitOnConfigError, loadConfigOrExit } from '../adapters/config.ts';
import { createLogger } from '../adapters/logger.ts';
import { enableProcessMetrics } from '../adapters/metrics.ts';
import { initTracing } from '../adapters/tracing.ts';
import { loadApiAuth } from './auth.ts';
import { createApiServer } from './server.ts';

const config = loadConfigOrExit();
// API_KEYS / API_KEYS_FILE: without a key (and AUTH_REQUIRED not false) the api does not start
const auth = exitOnConfigError(() => loadApiAuth(config));
const logger = createLogger(config.LOG_LEVEL, { process: 'api' });
if (!auth.required) {
  logger.warn(
    'AUTH_REQUIRED=false: every request is served without an API key; for local development only, never in a shared deployment',
  );
}
// off unless OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_TRACES_EXPORTER ask for traces (adapters/tracing.ts);
// before the server is built, so that its Temporal client carries the trace into the workflow
const tracing = initTracing({ serviceName: 'execution-replay-api' });
enableProcessMetrics();

const server = exitOnConfigError(() => createApiServer(config, { logger, auth }));
// the route broker refusing a setting (KAFKA_SASL_PASSWORD, KAFKA_TLS_CA_FILE) stops the start here
const address = await server.listen().catch((error: unknown) => {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(2);
});
logger.info(
  {
    url: `http://${address.address}:${address.port}`,
    tracing: Boolean(tracing),
    auth_required: auth.required,
    api_keys: auth.keys.map((key) => `${key.name} (${key.scope})`),
    public_health_endpoints: auth.publicHealth,
  },
  'api listening',
);

let stopping = false;
// SIGTERM (a rollout, a scale-down): refuse new connections, answer those in flight, then exit
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  const graceMs = config.API_SHUTDOWN_GRACE_SECONDS * 1000;
  logger.info({ signal, grace_seconds: config.API_SHUTDOWN_GRACE_SECONDS }, 'api draining');
  const drained = await server.drain(graceMs);
  await tracing?.shutdown().catch(() => {});
  logger.info({ drained }, 'api stopped');
  process.exit(drained ? 0 : 1);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
