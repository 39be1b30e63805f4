import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { ExecutionRecord } from '../../adapters/executions.ts';
import { createExecutionService } from '../../services/executions.ts';
import type { AppEnv } from '../context.ts';
import type { ApiDependencies } from '../dependencies.ts';
import {
  ExecutionReplayPageSchema,
  ExecutionReplayQuerySchema,
  type ExecutionReplay,
} from '../execution-replay-schemas.ts';
import { errorResponses, operationIds } from '../responses.ts';
import { ExecutionIdParamSchema } from '../schemas.ts';

const listReplays = createRoute({
  method: 'get',
  path: '/api/v1/executions/{execution_id}/replays',
  tags: ['executions'],
  operationId: operationIds.listExecutionReplays,
  summary: 'The replays of an execution, newest first',
  description:
    "Every execution whose parent is this one (by UUID or tag): who asked for it, why, when, its status and counts. Paginated as `GET /api/v1/executions` is: `limit` (1 to 200, 50 by default) and `cursor` (the previous page's `next_cursor`).",
  request: { params: ExecutionIdParamSchema, query: ExecutionReplayQuerySchema },
  responses: {
    200: {
      description: 'A page of replays',
      content: { 'application/json': { schema: ExecutionReplayPageSchema } },
    },
    404: errorResponses[404],
    422: errorResponses[422],
    503: errorResponses[503],
  },
});

function toExecutionReplay(record: ExecutionRecord): ExecutionReplay {
  return {
    id: record.id,
    tag: record.tag,
    status: record.status,
    paused: record.paused,
    requested_by: record.requested_by,
    reason: record.reason,
    started_at: record.started_at,
    completed_at: record.completed_at,
    replay_source: record.replay_source,
    from_stage: record.from_stage,
    to_route: record.to_route,
    listed: record.listed_count,
    published: record.published_count,
    error: record.error,
  };
}

export function executionReplayRoutes(deps: ApiDependencies) {
  const app = new OpenAPIHono<AppEnv>();
  const executions = createExecutionService(deps);

  app.openapi(listReplays, async (c) => {
    const parent = await executions.find(c.req.valid('param').execution_id);
    const { limit, cursor } = c.req.valid('query');
    const page = await executions.list({ parent_execution_id: parent.id }, { limit, cursor });
    return c.json({ items: page.items.map(toExecutionReplay), next_cursor: page.next_cursor }, 200);
  });

  return app;
}
