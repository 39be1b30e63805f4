import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { pingDatabase } from '../../adapters/database.ts';
import type { AppEnv } from '../context.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { withTimeout } from '../../services/dependency-timeout.ts';
import { operationIds } from '../responses.ts';

const ComponentsSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  components: z.record(
    z.string(),
    z.object({ status: z.enum(['ok', 'unavailable']), detail: z.string().optional() }),
  ),
});

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['health'],
  operationId: operationIds.healthz,
  summary: 'The process is alive',
  responses: {
    200: {
      description: 'Alive',
      content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
    },
  },
});

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['health'],
  operationId: operationIds.readyz,
  summary: 'Temporal, Postgres and S3 are each reachable',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: ComponentsSchema } } },
    503: {
      description:
        "A dependency is unreachable (named in components; the cause is in the api's log under the answer's X-Correlation-ID), or the api is shutting down (component `api`)",
      content: { 'application/json': { schema: ComponentsSchema } },
    },
  },
});

export function healthRoutes(deps: ApiDependencies) {
  const app = new OpenAPIHono<AppEnv>();
  app.openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(readyz, async (c) => {
    // a draining api (SIGTERM) is not ready, whatever its dependencies say: the load balancer stops sending
    if (deps.drain?.draining) {
      const detail = 'the api is shutting down; it finishes the requests in flight and exits';
      return c.json(
        { status: 'unavailable' as const, components: { api: { status: 'unavailable' as const, detail } } },
        503,
      );
    }
    const timeout = deps.settings.dependencyTimeoutMs;
    const checks: Record<string, () => Promise<unknown>> = {
      temporal: () =>
        deps.temporal.connection.withDeadline(Date.now() + timeout, () =>
          deps.temporal.workflowService.getSystemInfo({}),
        ),
      postgres: () => pingDatabase(deps.pool),
      s3: () => deps.objectStore.ping(),
    };
    // a broker transport's broker (Kafka, SQS); pg-boss lives in the Postgres checked above
    const transport = deps.routeTransport;
    if (transport.ping) checks[transport.kind] = () => transport.ping!();
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(name, timeout, check());
          return [name, { status: 'ok' as const }] as const;
        } catch (error) {
          // /readyz is public: the cause (hosts, users, the dependency's own words) goes to the log only
          c.get('logger').warn({ err: error, component: name }, `readiness check of ${name} failed`);
          const detail = `${name} is unavailable; the api's log has the cause under correlation id ${c.get('correlationId')}`;
          return [name, { status: 'unavailable' as const, detail }] as const;
        }
      }),
    );
    const components = Object.fromEntries(entries);
    const ready = entries.every(([, result]) => result.status === 'ok');
    return ready
      ? c.json({ status: 'ok' as const, components }, 200)
      : c.json({ status: 'unavailable' as const, components }, 503);
  });
  return app;
}
