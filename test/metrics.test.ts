import { apiSettingsFromConfig } from '../api/dependencies.ts';
/**
 * The operators' signals of a replay on the real services: Prometheus metrics (api `GET /metrics`, the
 * worker's registry and its metrics server), OpenTelemetry traces from the HTTP request through the
 * workflow to its activities (in-memory exporter), and the ids on the api's and the worker's log lines.
 */
import { Writable } from 'node:stream';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStatusActivities } from '../activities/replay-status.ts';
import { registry } from '../adapters/metrics.ts';
import { initTracing, temporalClientInterceptors } from '../adapters/tracing.ts';
import { createApp } from '../api/app.ts';
import { createReplayWorker, type ReplayWorkerHandle } from '../worker.ts';
import { replayWorkflowId } from '../workflows/definitions.ts';
import {
  createExecution,
  registerConfig,
  requestJson,
  seedOutputs,
  waitForExecution,
} from './support/fixtures.ts';
import { createTestStack, type TestStack } from './support/test-stack.ts';

// Before anything else: tracing is process-wide, as in api/main.ts and worker.ts.
const spans = new InMemorySpanExporter();
initTracing({ serviceName: 'metrics-test', exporter: spans });

const OBJECTS = 25;
const REPLAY_ROUTE = '/api/v1/executions/:execution_id/replay';

type LogLine = Record<string, unknown> & { msg: string };

function capturingLogger() {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

let base: TestStack;
/** The test stack with an api like api/main.ts builds it: its Temporal client carries the trace. */
let stack: TestStack;
let worker: { handle: ReplayWorkerHandle; running: Promise<void> };
let workerMetricsUrl: string;
const apiLogs = capturingLogger();
const workerLogs = capturingLogger();

/** The sum of a counter's series that have these labels. */
async function metricValue(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`metric ${name} is not registered`);
  const { values } = await metric.get();
  return values
    .filter((value) => Object.entries(labels).every(([key, expected]) => value.labels[key] === expected))
    .reduce((sum, value) => sum + value.value, 0);
}

beforeAll(async () => {
  base = await createTestStack({ REPLAY_PAGE_SIZE: '10' });
  const temporal = new Client({
    connection: base.temporal.connection,
    namespace: base.config.TEMPORAL_NAMESPACE,
    interceptors: { workflow: temporalClientInterceptors() },
  });
  const app = createApp({
    pool: base.pool,
    temporal,
    objectStore: base.objectStore,
    routeTransport: base.routeTransport,
    logger: apiLogs.logger,
    settings: apiSettingsFromConfig(base.config, { dependencyTimeoutMs: 10_000 }),
  });
  stack = { ...base, temporal, app };
  // a worker that bundles the workflows itself, so tracing's workflow interceptors are in the bundle
  const handle = await createReplayWorker(base.config, { logger: workerLogs.logger, metricsPort: 0 });
  worker = { handle, running: handle.run() };
  const infoLine = workerLogs.lines.find((line) => line.msg === 'worker metrics listening');
  workerMetricsUrl = String(infoLine?.url).replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
});

afterAll(async () => {
  worker?.handle.shutdown();
  await worker?.running.catch(() => {});
  await base?.close();
});

describe('a replay, seen by operators', () => {
  let replayId: string;
  const correlationId = `metrics-test-${Date.now()}`;

  beforeAll(async () => {
    const publishedBefore = await metricValue('replay_messages_published_total');
    expect(publishedBefore).toBe(0);
    const configId = (await registerConfig(stack)).id;
    const parent = await createExecution(stack, configId);
    await seedOutputs(stack, parent.id, 'markdown_segmented', OBJECTS);
    const response = await requestJson(
      stack,
      'POST',
      `/api/v1/executions/${parent.id}/replay`,
      { replay_source: 'storage', from_stage: 'markdown_segmented', to_route: 'embedding_generator' },
      { 'X-Correlation-ID': correlationId },
    );
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    replayId = response.body.id;
    await waitForExecution(stack, replayId, (record) => record.status === 'completed');
  });

  it('the api serves GET /metrics: request durations by route pattern, replays started', async () => {
    const response = await stack.app.request('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    const escaped = REPLAY_ROUTE.replaceAll('/', '\\/');
    expect(text).toMatch(
      new RegExp(
        `^http_request_duration_seconds_count\\{method="POST",route="${escaped}",status="200"\\} 1$`,
        'm',
      ),
    );
    expect(text).toMatch(
      new RegExp(
        `^http_request_duration_seconds_bucket\\{le="\\+Inf",method="POST",route="${escaped}",status="200"\\} 1$`,
        'm',
      ),
    );
    expect(text).toMatch(
      /^http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/configs",status="201"\} 1$/m,
    );
    expect(text).toMatch(/^replay_replays_started_total\{replay_source="storage"\} 1$/m);
    expect(text).toContain('# TYPE replay_messages_published_total counter');
    expect(text).toContain('# TYPE replay_activity_failures_total counter');
    // ids never become labels: one series per route pattern
    expect(text).not.toContain(replayId);
  });

  it('the worker counts the messages it published, its batches and the replay it finished', async () => {
    expect(await metricValue('replay_messages_published_total')).toBe(OBJECTS);
    expect(await metricValue('replay_replays_finished_total', { status: 'completed' })).toBe(1);
    const batches = await registry.getSingleMetricAsString('replay_publish_batch_duration_seconds');
    expect(batches).toMatch(
      new RegExp(`^replay_publish_batch_duration_seconds_count ${Math.ceil(OBJECTS / 10)}$`, 'm'),
    );
  });

  it('the worker serves the same registry on its metrics port', async () => {
    const response = await fetch(workerMetricsUrl);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(new RegExp(`^replay_messages_published_total ${OBJECTS}$`, 'm'));
    expect((await fetch(workerMetricsUrl.replace('/metrics', '/other'))).status).toBe(404);
  });

  it('one trace spans the HTTP request, the workflow and its activities', async () => {
    let all: ReadableSpan[] = [];
    const deadline = Date.now() + 10_000;
    // workflow spans reach the exporter through the worker's sink once the workflow ended
    while (Date.now() < deadline) {
      all = spans.getFinishedSpans();
      if (all.some((span) => span.name === 'RunWorkflow:replayExecution')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const http = all.find((span) => span.name === `POST ${REPLAY_ROUTE}`);
    expect(http, all.map((span) => span.name).join(', ')).toBeDefined();
    expect(http!.attributes['http.route']).toBe(REPLAY_ROUTE);
    expect(http!.attributes['http.response.status_code']).toBe(200);
    expect(http!.attributes['correlation_id']).toBe(correlationId);
    const traceId = http!.spanContext().traceId;
    const inTrace = all.filter((span) => span.spanContext().traceId === traceId);
    const names = inTrace.map((span) => span.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'UpdateWithStartWorkflow:executionCreated',
        'RunWorkflow:replayExecution',
        'StartActivity:startReplay',
        'RunActivity:startReplay',
        'StartActivity:publishPages',
        'RunActivity:publishPages',
      ]),
    );
    const start = inTrace.find((span) => span.name === 'UpdateWithStartWorkflow:executionCreated')!;
    expect(start.parentSpanId).toBe(http!.spanContext().spanId);
    expect(start.attributes['temporalWorkflowId']).toBe(replayWorkflowId(replayId));
    const run = inTrace.find((span) => span.name === 'RunWorkflow:replayExecution')!;
    expect(run.parentSpanId).toBe(start.spanContext().spanId);
    // one publishing activity lists and publishes every page of this small replay
    expect(inTrace.filter((span) => span.name === 'RunActivity:publishPages')).toHaveLength(1);
  });

  it('api log lines carry the correlation id (and the trace id); worker lines the execution and workflow ids', async () => {
    const requestLines = apiLogs.lines.filter((line) => line.correlation_id === correlationId);
    expect(requestLines.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['replay started', 'request']),
    );
    const traceIds = new Set(requestLines.map((line) => line.trace_id));
    expect(traceIds.size).toBe(1);
    expect([...traceIds][0]).toMatch(/^[0-9a-f]{32}$/);

    const deadline = Date.now() + 5000;
    let created: LogLine | undefined;
    while (!created && Date.now() < deadline) {
      created = workerLogs.lines.find(
        (line) => line.msg === 'replay started for request' && line.execution_id === replayId,
      );
      if (!created) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(created).toMatchObject({ correlation_id: correlationId, workflow_id: replayWorkflowId(replayId) });

    const activityLines = workerLogs.lines.filter((line) => typeof line.activity === 'string');
    expect(activityLines.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['replay started', 'replay completed']),
    );
    for (const line of activityLines.filter(
      (item) => item.execution_id === replayId || item.workflow_id === replayWorkflowId(replayId),
    )) {
      expect(line).toMatchObject({ execution_id: replayId, workflow_id: replayWorkflowId(replayId) });
    }
  });
});

describe('failures', () => {
  it('failed activity attempts are counted by activity type; interruptions are counted', async () => {
    // a stack whose bucket does not exist: listing fails, the replay becomes interrupted
    const broken = await createTestStack({
      S3_BUCKET: 'no-such-bucket-metrics',
      REPLAY_STEP_MAX_ATTEMPTS: '1',
    });
    try {
      await broken.startWorker();
      const before = await metricValue('replay_activity_failures_total', {
        activity_type: 'publishPages',
      });
      const configId = (await registerConfig(broken)).id;
      const parent = await createExecution(broken, configId);
      const response = await requestJson(broken, 'POST', `/api/v1/executions/${parent.id}/replay`, {
        replay_source: 'storage',
        from_stage: 'markdown_segmented',
        to_route: 'embedding_generator',
      });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      await waitForExecution(broken, response.body.id, (record) => record.status === 'interrupted');
      expect(
        await metricValue('replay_activity_failures_total', { activity_type: 'publishPages' }),
      ).toBeGreaterThan(before);
      expect(await metricValue('replay_replays_interrupted_total')).toBeGreaterThanOrEqual(1);
      const cancelled = await requestJson(broken, 'POST', `/api/v1/executions/${response.body.id}/cancel`);
      expect(cancelled.body.status).toBe('cancelled');
      expect(await metricValue('replay_replays_finished_total', { status: 'cancelled' })).toBe(1);
    } finally {
      await broken.close();
    }
  });
});

describe('each replay counted once, whatever its shape', () => {
  const REPLAY = {
    replay_source: 'storage',
    from_stage: 'markdown_segmented',
    to_route: 'embedding_generator',
  };

  it('a request repeated with its Idempotency-Key starts one replay, counted once', async () => {
    const configId = (await registerConfig(stack)).id;
    const parent = await createExecution(stack, configId);
    await seedOutputs(stack, parent.id, 'markdown_segmented', 3);
    const before = await metricValue('replay_replays_started_total', { replay_source: 'storage' });
    const headers = { 'Idempotency-Key': `metrics-${parent.id}` };
    const path = `/api/v1/executions/${parent.id}/replay`;
    const first = await requestJson(stack, 'POST', path, REPLAY, headers);
    const again = await requestJson(stack, 'POST', path, REPLAY, headers);
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(again.body.id).toBe(first.body.id);
    await waitForExecution(stack, first.body.id, (record) => record.status === 'completed');
    expect(await metricValue('replay_replays_started_total', { replay_source: 'storage' })).toBe(before + 1);
  });

  it('a partitioned replay counts as finished, once', async () => {
    const configId = (await registerConfig(stack)).id;
    const parent = await createExecution(stack, configId);
    // past REPLAY_PARTITION_AFTER_PAGES pages of 10 keys: it is split
    await seedOutputs(stack, parent.id, 'markdown_segmented', 120);
    const before = await metricValue('replay_replays_finished_total', { status: 'completed' });
    const response = await requestJson(stack, 'POST', `/api/v1/executions/${parent.id}/replay`, REPLAY);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    await waitForExecution(stack, response.body.id, (record) => record.status === 'completed');
    const partitions = await stack.pool.query(
      'SELECT count(*)::int AS count FROM replay_partitions WHERE execution_id = $1',
      [response.body.id],
    );
    expect(partitions.rows[0].count).toBeGreaterThanOrEqual(2);
    expect(await metricValue('replay_replays_finished_total', { status: 'completed' })).toBe(before + 1);
  });

  it('a status change retried after it landed counts once', async () => {
    const configId = (await registerConfig(stack)).id;
    const parent = await createExecution(stack, configId);
    await seedOutputs(stack, parent.id, 'markdown_segmented', 60);
    const response = await requestJson(stack, 'POST', `/api/v1/executions/${parent.id}/replay`, {
      ...REPLAY,
      max_messages_per_second: 1,
    });
    expect(response.status).toBe(200);
    const { setExecutionStatus } = createStatusActivities({
      pool: stack.pool,
      objectStore: stack.objectStore,
      routeTransport: stack.routeTransport,
      logger: pino({ level: 'silent' }),
    });
    const before = await metricValue('replay_replays_finished_total', { status: 'failed' });
    const input = { executionId: response.body.id, status: 'failed' as const, error: 'failed by the test' };
    // the same step twice, as a retry after a lost result runs it
    const activities = new MockActivityEnvironment();
    await activities.run(setExecutionStatus, input);
    await activities.run(setExecutionStatus, input);
    expect(await metricValue('replay_replays_finished_total', { status: 'failed' })).toBe(before + 1);
  });
});
