/**
 * Prometheus metrics (prom-client), one registry per process. The api serves it at `GET /metrics`;
 * the worker on `WORKER_METRICS_PORT` when set (startMetricsServer). The README lists every metric.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { ExecutionStatus } from '../domain/replay.ts';

export const registry = new Registry();

/** api: every request, by the route pattern that answered (`/api/v1/executions/:execution_id/replay`). */
export const httpRequestDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Duration of HTTP requests served by the api, by method, route pattern and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

/** worker: replays whose record was created (once each: not a repeated request, not a retried start). */
export const replaysStarted = new Counter({
  name: 'replay_replays_started_total',
  help: 'Replays started (their record created), by replay_source',
  labelNames: ['replay_source'] as const,
  registers: [registry],
});

/** worker: replays that reached a final status. */
export const replaysFinished = new Counter({
  name: 'replay_replays_finished_total',
  help: 'Replays that reached a final status (completed, failed, cancelled), by status',
  labelNames: ['status'] as const,
  registers: [registry],
});

/** worker: replays whose step ran out of attempts (they wait for resume or cancel). */
export const replaysInterrupted = new Counter({
  name: 'replay_replays_interrupted_total',
  help: 'Times a replay became interrupted (a step spent its attempts)',
  registers: [registry],
});

/**
 * Counts a replay's status change once: called with what a statement that changed the record in
 * Postgres saw before (`changedFrom`), after its transaction committed. A retried step finds the
 * status already set, changes nothing, and counts nothing.
 */
export function countStatusChange(
  change: { status: ExecutionStatus; changedFrom?: ExecutionStatus } | undefined,
) {
  if (!change?.changedFrom) return;
  if (change.status === 'interrupted') replaysInterrupted.inc();
  else if (change.status === 'completed' || change.status === 'failed' || change.status === 'cancelled')
    replaysFinished.inc({ status: change.status });
}

/** worker: messages written to the route queue (a batch retried after its commit counts once). */
export const messagesPublished = new Counter({
  name: 'replay_messages_published_total',
  help: 'Replay messages published to route queues',
  registers: [registry],
});

/** worker: one publishBatch activity attempt (lock, compare-and-set, insert). */
export const publishBatchDuration = new Histogram({
  name: 'replay_publish_batch_duration_seconds',
  help: 'Duration of one publishBatch transaction',
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

/** worker: failed activity attempts (each retry that fails counts), by activity type. */
export const activityFailures = new Counter({
  name: 'replay_activity_failures_total',
  help: 'Failed activity attempts, by activity type',
  labelNames: ['activity_type'] as const,
  registers: [registry],
});

let processMetricsEnabled = false;

/** Node.js process metrics (CPU, memory, event loop lag, GC) in the same registry; once per process. */
export function enableProcessMetrics(): void {
  if (processMetricsEnabled) return;
  processMetricsEnabled = true;
  collectDefaultMetrics({ register: registry });
}

/** The exposition text and its content type, for `GET /metrics`. */
export async function renderMetrics(): Promise<{ body: string; contentType: string }> {
  return { body: await registry.metrics(), contentType: registry.contentType };
}

/** Counts failed activity attempts; register first among the worker's activity interceptors. */
export const activityFailureMetrics: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      try {
        return await next(input);
      } catch (error) {
        // an activity completing asynchronously throws CompleteAsyncError: not a failure
        if ((error as Error | undefined)?.name !== 'CompleteAsyncError') {
          activityFailures.inc({ activity_type: ctx.info.activityType });
        }
        throw error;
      }
    },
  },
});

/** The paths of the worker's metrics server: its metrics, and its probes (Kubernetes). */
export const WORKER_SERVER_PATHS = ['/metrics', '/healthz', '/readyz'] as const;

/**
 * A tiny HTTP server answering `GET /metrics` (the worker's, on WORKER_METRICS_PORT), and the probes:
 * `/healthz` while the process lives, `/readyz` while `ready()` (the worker polls; not while draining).
 */
export async function startMetricsServer(
  port: number,
  host?: string,
  ready: () => boolean = () => true,
): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' && (path === '/healthz' || path === '/readyz')) {
      const ok = path === '/healthz' || ready();
      response
        .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: ok ? 'ok' : 'unavailable' }));
      return;
    }
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    renderMetrics().then(
      ({ body, contentType }) => response.writeHead(200, { 'content-type': contentType }).end(body),
      (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

export function metricsServerUrl(server: http.Server): string {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}/metrics`;
}
