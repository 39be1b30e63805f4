/**
 * Operators' controls of a running replay: pause (resume is api/routes/lifecycle.ts) and its own
 * rate limit; services/replay-lifecycle.ts applies them.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { createReplayLifecycle } from '../../services/replay-lifecycle.ts';
import type { AppEnv } from '../context.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { toExecutionDetail } from '../execution-views.ts';
import { errorResponses, operationIds, replayLinks } from '../responses.ts';
import { ExecutionDetailSchema, ExecutionIdParamSchema, RateLimitSchema } from '../schemas.ts';

const json = <T>(schema: T) => ({ 'application/json': { schema } });

const pauseRoute = createRoute({
  method: 'post',
  path: '/api/v1/executions/{execution_id}/pause',
  tags: ['executions'],
  operationId: operationIds.pauseExecution,
  summary: 'Pause a replay',
  description:
    'Publishing stops before the next page; the status stays `running` (the contract has no paused status) and `progress.paused` becomes true; the `ReplayStatus` search attribute says `paused`. `POST .../resume` continues it. Pausing a paused replay changes nothing. 409 once the replay has finished.',
  request: { params: ExecutionIdParamSchema },
  responses: {
    200: { description: 'Paused', content: json(ExecutionDetailSchema), links: replayLinks },
    202: {
      description: 'Accepted; the workflow has not applied it yet',
      content: json(ExecutionDetailSchema),
      links: replayLinks,
    },
    404: errorResponses[404],
    409: { ...errorResponses[409], description: 'Not a replay, or finished' },
    503: errorResponses[503],
  },
});

export const ReplayChangeSchema = z
  .object({
    max_messages_per_second: RateLimitSchema.nullable().openapi({
      description:
        "The replay's own rate limit from its next page on; null lifts it (the route's limit still holds)",
    }),
  })
  .strict()
  .openapi('ReplayChange');

const changeRoute = createRoute({
  method: 'patch',
  path: '/api/v1/executions/{execution_id}',
  tags: ['executions'],
  operationId: operationIds.changeExecution,
  summary: "Change a running replay's rate limit",
  description:
    "Sets (a number) or lifts (null) the replay's own `max_messages_per_second`; it takes effect from the next page. The route's limit holds as well. 409 once the replay has finished.",
  request: {
    params: ExecutionIdParamSchema,
    body: { required: true, content: json(ReplayChangeSchema) },
  },
  responses: {
    200: {
      description: 'The replay with its new limit',
      content: json(ExecutionDetailSchema),
      links: replayLinks,
    },
    404: errorResponses[404],
    409: { ...errorResponses[409], description: 'Not a replay, or finished' },
    422: errorResponses[422],
    503: errorResponses[503],
  },
});

export function replayControlRoutes(deps: ApiDependencies) {
  const app = new OpenAPIHono<AppEnv>();
  const lifecycle = createReplayLifecycle(deps);
  const call = (c: Context<AppEnv>) => ({ correlationId: c.get('correlationId'), logger: c.get('logger') });

  app.openapi(pauseRoute, async (c) => {
    const settled = await lifecycle.pause(c.req.valid('param').execution_id, call(c));
    return c.json(toExecutionDetail(settled.record), settled.applied ? 200 : 202);
  });

  app.openapi(changeRoute, async (c) => {
    const { max_messages_per_second: rate } = c.req.valid('json');
    const record = await lifecycle.changeRate(c.req.valid('param').execution_id, rate, call(c));
    return c.json(toExecutionDetail(record), 200);
  });

  return app;
}
