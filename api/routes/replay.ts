import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { requesterOf, type AppEnv } from '../context.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { toReplayResponse } from '../execution-views.ts';
import { idempotencyKeyHeaders } from '../idempotency.ts';
import { createReplayService } from '../../services/replay-service.ts';
import { errorResponses, operationIds, replayLinks } from '../responses.ts';
import {
  ExecutionIdParamSchema,
  ExecutionReplayRequestSchema,
  ReplayExecutionResponseSchema,
} from '../schemas.ts';

const replayRoute = createRoute({
  method: 'post',
  path: '/api/v1/executions/{execution_id}/replay',
  tags: ['executions'],
  operationId: operationIds.replayExecution,
  summary: 'Replay Execution',
  description: `Replay a previous pipeline execution.

Full replay coordinator:

  1. Creates a new execution record linked to the parent
  2. Starts routes via OrchestratorManager (skip init_message)
  3. Publishes replay messages from source storage to target route

For cross-pipeline replay, provide config_id in the request body to use a different pipeline's routes. Storage reads from the parent execution.`,
  request: {
    params: ExecutionIdParamSchema,
    headers: idempotencyKeyHeaders('Retry-safe key: the same key and body return the same execution'),
    body: { required: true, content: { 'application/json': { schema: ExecutionReplayRequestSchema } } },
  },
  responses: {
    200: {
      description: 'Successful Response',
      content: { 'application/json': { schema: ReplayExecutionResponseSchema } },
      links: replayLinks,
    },
    ...errorResponses,
  },
});

export function replayRoutes(deps: ApiDependencies) {
  const app = new OpenAPIHono<AppEnv>();
  const service = createReplayService(deps);

  app.openapi(replayRoute, async (c) => {
    const { execution_id: parentRef } = c.req.valid('param');
    const body = c.req.valid('json');
    const record = await service.replay(parentRef, body, {
      idempotencyKey: c.req.valid('header')['idempotency-key'],
      correlationId: c.get('correlationId'),
      logger: c.get('logger'),
      requestedBy: requesterOf(c),
    });
    // the seed contract's exact fields, unless the client asked with fields of ours (a selection, a reason)
    const provenance =
      body.reason != null ? { reason: record.reason, requested_by: record.requested_by } : {};
    return c.json({ ...toReplayResponse(record), ...provenance }, 200);
  });

  return app;
}
