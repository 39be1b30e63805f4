import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { createReplayLifecycle } from '../../services/replay-lifecycle.ts';
import type { AppEnv } from '../context.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { toExecutionResponse } from '../execution-views.ts';
import { errorResponses, executionLinks, operationIds, replayLinks } from '../responses.ts';
import { ExecutionIdParamSchema, ExecutionResponseSchema } from '../schemas.ts';

const lifecycleRoute = (action: 'resume' | 'cancel', description: string) =>
  createRoute({
    method: 'post',
    path: `/api/v1/executions/{execution_id}/${action}`,
    tags: ['executions'],
    operationId: action === 'resume' ? operationIds.resumeExecution : operationIds.cancelExecution,
    summary:
      action === 'resume' ? 'Resume an interrupted replay' : 'Cancel a running or interrupted execution',
    description,
    request: { params: ExecutionIdParamSchema },
    // a resumed replay runs again: its controls apply; a cancelled execution can only be read
    responses: {
      200: {
        description: 'The execution after the action',
        content: { 'application/json': { schema: ExecutionResponseSchema } },
        links: action === 'resume' ? replayLinks : { GetExecution: executionLinks.GetExecution },
      },
      202: {
        description: 'Accepted; the workflow has not applied it yet',
        content: { 'application/json': { schema: ExecutionResponseSchema } },
        links: action === 'resume' ? replayLinks : { GetExecution: executionLinks.GetExecution },
      },
      404: errorResponses[404],
      409: { ...errorResponses[409], description: 'The execution is not in a state that allows this action' },
      503: errorResponses[503],
    },
  });

const resumeRoute = lifecycleRoute(
  'resume',
  'An `interrupted` or paused replay goes on from its cursor: its waiting workflow is signalled, or, when the workflow was closed outside the service, a new run starts from the cursor kept in Postgres. 409 unless the execution is `interrupted` or paused.',
);
const cancelRoute = lifecycleRoute(
  'cancel',
  'A `running` or `interrupted` execution stops publishing; its routes and record become `cancelled`. 409 when it has already finished.',
);

export function lifecycleRoutes(deps: ApiDependencies) {
  const app = new OpenAPIHono<AppEnv>();
  const lifecycle = createReplayLifecycle(deps);
  const call = (c: Context<AppEnv>) => ({ correlationId: c.get('correlationId'), logger: c.get('logger') });

  app.openapi(resumeRoute, async (c) => {
    const settled = await lifecycle.resume(c.req.valid('param').execution_id, call(c));
    return c.json(toExecutionResponse(settled.record), settled.applied ? 200 : 202);
  });

  app.openapi(cancelRoute, async (c) => {
    const settled = await lifecycle.cancel(c.req.valid('param').execution_id, call(c));
    return c.json(toExecutionResponse(settled.record), settled.applied ? 200 : 202);
  });

  return app;
}
