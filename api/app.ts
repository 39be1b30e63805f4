import { randomUUID } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { routePath } from 'hono/route';
import { runWithCorrelationId } from '../adapters/correlation.ts';
import { httpRequestDuration, renderMetrics } from '../adapters/metrics.ts';
import { activeTraceId, inHttpSpan } from '../adapters/tracing.ts';
import { authMiddleware } from './auth.ts';
import { jsonWithoutContentType } from './content-type.ts';
import type { AppEnv } from './context.ts';
import type { ApiDependencies } from './dependencies.ts';
import { dependencyFailure } from './dependency-errors.ts';
import {
  ApiError,
  errorResponseBody,
  httpStatusOf,
  httpValidationError,
  jsonInvalidError,
  RequestValidationError,
} from './errors.ts';
import {
  bodySizeLimit,
  DEFAULT_LIMITS,
  jsonDepthLimit,
  MAX_JSON_DEPTH,
  nulPathGuard,
  rateLimit,
} from './limits.ts';
import { allowedMethodsOf } from './method-not-allowed.ts';
import { openApiDocument, registerOpenApiComponents } from './openapi.ts';
import { bulkReplayRoutes } from './routes/bulk-replays.ts';
import { startAdmission } from '../services/start-admission.ts';
import { ServiceError } from '../services/errors.ts';
import { ReplayRequestRefused } from '../services/replay-request.ts';
import { replayRefusalError } from './replay-refusals.ts';
import { configRoutes } from './routes/configs.ts';
import { docsRoutes } from './routes/docs.ts';
import { executionRoutes } from './routes/executions.ts';
import { healthRoutes } from './routes/health.ts';
import { lifecycleRoutes } from './routes/lifecycle.ts';
import { replayPreviewRoutes } from './routes/replay-preview.ts';
import { replayRoutes } from './routes/replay.ts';
import { executionReplayRoutes } from './routes/execution-replays.ts';
import { replayControlRoutes } from './routes/replay-controls.ts';

const CORRELATION_ID_PATTERN = /^[\w.:-]{1,128}$/;
/** Retry-After of a 503 for a dependency that is down (overload answers say their own). */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;
const UNMATCHED_ROUTE = '(unmatched)';

/** The route pattern label of a request: the handler's path, or '(unmatched)' when only '*' matched. */
const routeLabel = (path: string) => (path === '' || path === '*' || path === '/*' ? UNMATCHED_ROUTE : path);

/** The api as a Hono app; tests call app.request() on it, api/main.ts serves it. */
export function createApp(given: ApiDependencies) {
  const deps = { ...given, admission: given.admission ?? startAdmission(given.settings.maxStartsInFlight) };
  const app = new OpenAPIHono<AppEnv>({
    // Schema failures answer like FastAPI: 422 with pydantic-style `detail` entries.
    defaultHook: (result, c) => {
      if (!result.success) {
        const input = (result as { data?: unknown }).data;
        return c.json(httpValidationError(result.error, result.target, input), 422);
      }
    },
  });

  // Metrics and traces: each request's duration by route pattern and status, inside a server span
  // (when tracing is on) that the replay workflow and its activities join.
  app.use('*', async (c, next) => {
    const started = performance.now();
    let route = UNMATCHED_ROUTE;
    try {
      await inHttpSpan({ method: c.req.method, path: c.req.path, headers: c.req.raw.headers }, async () => {
        await next();
        route = routeLabel(routePath(c));
        return { route, status: c.res.status, correlationId: c.get('correlationId') };
      });
    } finally {
      const status = c.res.status;
      httpRequestDuration.observe(
        { method: c.req.method, route, status: String(status) },
        (performance.now() - started) / 1000,
      );
    }
  });

  // Correlation id: taken from the caller when given, else made; echoed and put on every log line.
  app.use('*', async (c, next) => {
    const given = c.req.header('x-correlation-id') ?? c.req.header('x-request-id');
    const correlationId = given && CORRELATION_ID_PATTERN.test(given) ? given : randomUUID();
    const traceId = activeTraceId();
    const logger = deps.logger.child(
      traceId ? { correlation_id: correlationId, trace_id: traceId } : { correlation_id: correlationId },
    );
    c.set('correlationId', correlationId);
    c.set('logger', logger);
    const started = performance.now();
    // the Temporal client's interceptor puts it on every workflow start and signal of this request
    await runWithCorrelationId(correlationId, next);
    c.header('X-Correlation-ID', correlationId);
    // while draining, a kept-alive connection ends with this answer: the client reconnects elsewhere
    if (deps.drain?.draining) c.header('Connection', 'close');
    // the request's logger: with the name of its API key once authenticated (never the key)
    (c.get('logger') ?? logger).info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      'request',
    );
  });

  // Security (api/auth.ts, api/limits.ts): a key first, then its rate, then the body's size and depth,
  // all before any route reads the body.
  const auth = deps.auth ?? { required: false, keys: [], publicHealth: true };
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  if (!deps.auth) deps.logger.warn('api built without auth options: requests are not authenticated');
  app.use('*', authMiddleware(auth));
  app.use('*', rateLimit(limits));
  app.use('*', bodySizeLimit(limits.maxBodyBytes));
  app.use('*', jsonWithoutContentType());
  app.use('*', jsonDepthLimit(MAX_JSON_DEPTH));
  app.use('*', nulPathGuard());

  // Prometheus metrics of this process (adapters/metrics.ts), for scrapers: not part of the OpenAPI document.
  app.get('/metrics', async (c) => {
    const { body, contentType } = await renderMetrics();
    return c.body(body, 200, { 'content-type': contentType });
  });

  app.route('/', healthRoutes(deps));
  app.route('/', configRoutes(deps));
  app.route('/', executionRoutes(deps));
  app.route('/', replayRoutes(deps));
  app.route('/', executionReplayRoutes(deps));
  app.route('/', replayPreviewRoutes(deps));
  app.route('/', lifecycleRoutes(deps));
  app.route('/', replayControlRoutes(deps));
  app.route('/', bulkReplayRoutes(deps));

  registerOpenApiComponents(app, auth.required);
  app.get('/openapi.json', (c) => c.json(openApiDocument(app, { auth, limits })));
  app.route('/', docsRoutes());

  const allowedMethods = allowedMethodsOf(app.routes);
  app.notFound((c) => {
    const allowed = allowedMethods(c.req.path);
    const correlationId = c.get('correlationId');
    if (allowed.length === 0) return c.json(errorResponseBody('Not Found', 'NOT_FOUND', correlationId), 404);
    c.header('Allow', allowed.join(', '));
    return c.json(errorResponseBody('Method Not Allowed', 'METHOD_NOT_ALLOWED', correlationId), 405);
  });

  app.onError((thrown, c) => {
    let error: Error = thrown;
    const correlationId = c.get('correlationId');
    c.header('X-Correlation-ID', correlationId);
    if (error instanceof ReplayRequestRefused) error = replayRefusalError(error);
    if (error instanceof ServiceError) {
      const status = httpStatusOf[error.kind];
      // the client gets the stable detail and the correlation id; the cause's own text stays here
      if (error.options.failure !== undefined)
        (c.get('logger') ?? deps.logger).warn({ err: error.options.failure }, error.message);
      if (status === 503)
        c.header('Retry-After', String(error.options.retryAfterSeconds ?? UNAVAILABLE_RETRY_AFTER_SECONDS));
      return c.json(errorResponseBody(error.message, error.code, correlationId), status);
    }
    if (error instanceof ApiError) {
      // a client told when to come back does not retry in a tight loop
      if (error.status === 503)
        c.header('Retry-After', String(error.retryAfterSeconds ?? UNAVAILABLE_RETRY_AFTER_SECONDS));
      return c.json(errorResponseBody(error.message, error.errorCode, correlationId), error.status);
    }
    if (error instanceof RequestValidationError) return c.json({ detail: error.detail }, 422);
    if (error instanceof HTTPException && error.status === 400 && /Malformed JSON/i.test(error.message)) {
      return c.json(jsonInvalidError(error.message), 422);
    }
    if (error instanceof HTTPException) {
      const code = error.status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'HTTP_ERROR';
      return c.json(errorResponseBody(error.message, code, correlationId), error.status);
    }
    const logger = c.get('logger') ?? deps.logger;
    // a dependency that failed, however it failed, is a 503: the client may retry, the request was fine
    const failure = dependencyFailure(error);
    if (failure) {
      logger[failure.unreachable ? 'warn' : 'error']({ err: error }, `${failure.dependency} failed`);
      c.header('Retry-After', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
      return c.json(errorResponseBody(failure.detail, 'SERVICE_UNAVAILABLE', correlationId), 503);
    }
    logger.error({ err: error }, 'unhandled error');
    return c.json(errorResponseBody('Internal server error', 'INTERNAL_ERROR', correlationId), 500);
  });

  return app;
}

export type App = ReturnType<typeof createApp>;
