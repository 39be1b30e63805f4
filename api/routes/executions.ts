import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { createExecutionService } from '../../services/executions.ts';
import type { AppEnv } from '../context.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { toExecutionDetail, toExecutionResponse } from '../execution-views.ts';
import { errorResponses, executionLinks, operationIds } from '../responses.ts';
import {
  ExecutionCreateSchema,
  ExecutionDetailSchema,
  ExecutionIdParamSchema,
  ExecutionListQuerySchema,
  ExecutionPageSchema,
  ExecutionResponseSchema,
} from '../schemas.ts';

const createExecution = createRoute({
  method: 'post',
  path: '/api/v1/executions',
  tags: ['executions'],
  operationId: operationIds.createExecution,
  summary: 'Start a normal execution of a pipeline config',
  description:
    'Creates the record, starts every route of the config and sends the init message to its entry_route.',
  request: { body: { required: true, content: { 'application/json': { schema: ExecutionCreateSchema } } } },
  responses: {
    201: {
      description: 'Started',
      content: { 'application/json': { schema: ExecutionResponseSchema } },
      links: executionLinks,
    },
    404: errorResponses[404],
    409: errorResponses[409],
    422: errorResponses[422],
    503: errorResponses[503],
  },
});

const getExecution = createRoute({
  method: 'get',
  path: '/api/v1/executions/{execution_id}',
  tags: ['executions'],
  operationId: operationIds.getExecution,
  summary: 'Get an execution by UUID or tag, with its progress',
  request: { params: ExecutionIdParamSchema },
  responses: {
    200: { description: 'The execution', content: { 'application/json': { schema: ExecutionDetailSchema } } },
    404: errorResponses[404],
    503: errorResponses[503],
  },
});

const listExecutionsRoute = createRoute({
  method: 'get',
  path: '/api/v1/executions',
  tags: ['executions'],
  operationId: operationIds.listExecutions,
  summary: 'List executions, newest first',
  request: { query: ExecutionListQuerySchema },
  responses: {
    200: {
      description: 'A page of executions',
      content: { 'application/json': { schema: ExecutionPageSchema } },
    },
    422: errorResponses[422],
    503: errorResponses[503],
  },
});

export function executionRoutes(deps: ApiDependencies) {
  const app = new OpenAPIHono<AppEnv>();
  const executions = createExecutionService(deps);

  app.openapi(createExecution, async (c) =>
    c.json(toExecutionResponse(await executions.create(c.req.valid('json'))), 201),
  );

  app.openapi(getExecution, async (c) =>
    c.json(toExecutionDetail(await executions.find(c.req.valid('param').execution_id)), 200),
  );

  app.openapi(listExecutionsRoute, async (c) => {
    const { limit, cursor, ...filter } = c.req.valid('query');
    const page = await executions.list(filter, { limit, cursor });
    return c.json({ items: page.items.map(toExecutionDetail), next_cursor: page.next_cursor }, 200);
  });

  return app;
}
