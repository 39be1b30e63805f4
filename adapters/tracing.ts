/**
 * OpenTelemetry traces, off unless the standard variables ask for them: `OTEL_EXPORTER_OTLP_ENDPOINT`
 * (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) sends spans with OTLP over HTTP; `OTEL_TRACES_EXPORTER`
 * picks `otlp` or `console` (`none`, or `OTEL_SDK_DISABLED=true`, turns tracing off). One trace covers
 * an api request, the replay workflow it starts and the workflow's activities: the api's middleware
 * opens a server span, the Temporal client interceptor carries its context into the workflow's headers,
 * the worker's workflow interceptors (in the workflow bundle) and activity interceptors continue it.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { envDetectorSync, Resource } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NoopSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { correlationClientInterceptor } from './correlation.ts';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, WorkerOptions } from '@temporalio/worker';

const require = createRequire(import.meta.url);

/**
 * The workflow interceptor module that opens the workflow's spans inside the sandbox: bundled with
 * the workflows by adapters/workflow-bundle.ts.
 */
export const workflowInterceptorModules = [
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
  // the request's correlation id goes on with what a workflow schedules (adapters/correlation.ts)
  fileURLToPath(
    new URL(
      `./correlation-workflow-interceptors${path.extname(fileURLToPath(import.meta.url))}`,
      import.meta.url,
    ),
  ),
];

export interface Tracing {
  provider: BasicTracerProvider;
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Flushes pending spans and stops the exporter. */
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/** Whether the environment asks for traces (standard OpenTelemetry variables). */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (/^true$/i.test(env.OTEL_SDK_DISABLED ?? '')) return false;
  const exporter = (env.OTEL_TRACES_EXPORTER ?? '').trim().toLowerCase();
  if (exporter === 'none') return false;
  return Boolean(exporter || env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

function exporterFromEnv(env: NodeJS.ProcessEnv): SpanExporter {
  const names = (env.OTEL_TRACES_EXPORTER ?? 'otlp')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  if (names.includes('console')) return new ConsoleSpanExporter();
  if (names.length > 0 && !names.includes('otlp')) {
    throw new Error(
      `OTEL_TRACES_EXPORTER ${env.OTEL_TRACES_EXPORTER} is not supported (otlp, console, none)`,
    );
  }
  // reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT; sends OTLP/HTTP (JSON)
  return new OTLPTraceExporter();
}

/**
 * Starts tracing for this process when the environment asks for it (or an exporter is given, as tests
 * do) and registers it globally (tracer provider, AsyncLocalStorage context, W3C propagation).
 * Returns undefined when tracing stays off. Call it once, before the api or the worker is built.
 */
export function initTracing(options: {
  serviceName: string;
  env?: NodeJS.ProcessEnv;
  /** Overrides the exporter chosen from the environment (and exports each span at once). */
  exporter?: SpanExporter;
}): Tracing | undefined {
  if (active) return active;
  const env = options.env ?? process.env;
  if (!options.exporter && !tracingRequested(env)) return undefined;
  const exporter = options.exporter ?? exporterFromEnv(env);
  const spanProcessor = options.exporter
    ? new SimpleSpanProcessor(exporter)
    : new BatchSpanProcessor(exporter);
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the default service name
  const resource = Resource.default()
    .merge(new Resource({ 'service.name': options.serviceName }))
    .merge(envDetectorSync.detect());
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  const contextManager = new AsyncLocalStorageContextManager();
  contextManager.enable();
  provider.register({ contextManager });
  active = {
    provider,
    spanProcessor,
    resource,
    async shutdown() {
      await provider.shutdown();
    },
  };
  return active;
}

/**
 * Client interceptors for the api's Temporal client: every start and signal carries the request's
 * correlation id (adapters/correlation.ts), and with tracing on the workflow joins its trace.
 */
export function temporalClientInterceptors(): WorkflowClientInterceptor[] {
  const correlation = correlationClientInterceptor();
  return active ? [new OpenTelemetryWorkflowClientInterceptor(), correlation] : [correlation];
}

/**
 * What the worker adds: activity spans when tracing is on, and the sink that the workflow interceptors
 * (always in the workflow bundle, adapters/workflow-bundle.ts) export the workflow's spans to; with
 * tracing off the sink drops them, since a sink the bundle calls must exist.
 */
export function temporalWorkerTracing(): {
  activity: ActivityInterceptorsFactory[];
  sinks: NonNullable<WorkerOptions['sinks']>;
} {
  const activity: ActivityInterceptorsFactory[] = active
    ? [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ]
    : [];
  const exporter = active
    ? makeWorkflowExporter(active.spanProcessor, active.resource)
    : makeWorkflowExporter(new NoopSpanProcessor(), Resource.EMPTY);
  return { activity, sinks: { exporter } };
}

const tracer = trace.getTracer('execution-replay-api');

export interface HttpSpanResult {
  route: string;
  status: number;
  correlationId?: string;
}

/**
 * Runs an api request inside a server span (continuing the caller's `traceparent` when given); `run`
 * returns what is known once the request was answered. Without tracing it just runs.
 */
export async function inHttpSpan(
  request: { method: string; path: string; headers: Headers },
  run: () => Promise<HttpSpanResult>,
): Promise<void> {
  if (!active) {
    await run();
    return;
  }
  const carrier: Record<string, string> = {};
  request.headers.forEach((value, key) => (carrier[key] = value));
  const parent = propagation.extract(ROOT_CONTEXT, carrier);
  const span = tracer.startSpan(
    `${request.method} ${request.path}`,
    {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': request.method, 'url.path': request.path },
    },
    parent,
  );
  try {
    const result = await context.with(trace.setSpan(parent, span), run);
    span.updateName(`${request.method} ${result.route}`);
    span.setAttributes({ 'http.route': result.route, 'http.response.status_code': result.status });
    if (result.correlationId) span.setAttribute('correlation_id', result.correlationId);
    if (result.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}

/** The trace id of the active span, for log lines; undefined without tracing. */
export function activeTraceId(): string | undefined {
  if (!active) return undefined;
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}
