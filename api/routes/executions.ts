import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { isUniqueViolation, withTransaction, type Queryable } from '../../adapters/database.ts';
import {
  findExecutionByIdOrTag,
  insertExecutionIfAbsent,
  listExecutions,
  markRoutesStarted,
  type ExecutionRecord,
} from '../../adapters/executions.ts';
import type { OutgoingMessage } from '../../adapters/route-queue.ts';
import { newExecutionId, replayMessageId } from '../../adapters/ids.ts';
import { getPipelineConfig } from '../../adapters/pipeline-configs.ts';
import type { AppEnv } from '../context.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { withTimeout } from '../dependency-errors.ts';
import { ApiError, DependencyUnavailable } from '../errors.ts';
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

  app.openapi(createExecution, async (c) => {
    const body = c.req.valid('json');
    const config = await getPipelineConfig(deps.pool, body.config_id);
    if (!config) throw new ApiError(404, 'CONFIG_NOT_FOUND', `Pipeline config ${body.config_id} not found`);
    const routes = config.routes.map((route) => route.name);
    const transport = `the route transport (${deps.routeTransport.kind})`;
    const timeoutMs = deps.settings.dependencyTimeoutMs;
    for (const route of routes)
      await withTimeout(transport, timeoutMs, deps.routeTransport.ensureRoute(route));
    const id = newExecutionId();
    const metadata = body.metadata ?? {};
    const messageId = replayMessageId(id, config.entry_route, '');
    const init: OutgoingMessage = {
      id: messageId,
      route: config.entry_route,
      body: {
        message_id: messageId,
        execution_id: id,
        config_id: config.id,
        route: config.entry_route,
        init: true,
        metadata,
      },
    };
    const publish = (db: Queryable) =>
      withTimeout(transport, timeoutMs, deps.routeTransport.publish([init], db));
    let record: ExecutionRecord;
    try {
      record = await withTransaction(deps.pool, async (client) => {
        const created = await insertExecutionIfAbsent(client, {
          id,
          config_id: config.id,
          parent_execution_id: null,
          root_execution_id: id,
          replay_source: null,
          from_stage: null,
          to_route: null,
          from_path: null,
          tag: body.tag ?? null,
          metadata,
          workflow_id: null,
        });
        await markRoutesStarted(client, id, routes);
        // pg-boss: the message commits with the record, exactly once
        if (deps.routeTransport.transactional) await publish(client);
        return created;
      });
    } catch (error) {
      if (isUniqueViolation(error, 'executions_tag_key')) {
        throw new ApiError(409, 'TAG_CONFLICT', `Tag '${body.tag}' is already used by another execution`);
      }
      throw error;
    }
    // a broker: only what committed is sent (a send cannot be rolled back), under the message's
    // deterministic id, so that a resend is a duplicate consumers recognise
    if (!deps.routeTransport.transactional) {
      try {
        await publish(deps.pool);
      } catch (error) {
        throw new DependencyUnavailable(
          `Execution ${id} was created, but the route transport did not confirm its init message in time`,
          error,
        );
      }
    }
    return c.json(toExecutionResponse(record), 201);
  });

  app.openapi(getExecution, async (c) => {
    const record = await findExecutionByIdOrTag(deps.pool, c.req.valid('param').execution_id);
    if (!record) throw new ApiError(404, 'EXECUTION_NOT_FOUND', 'Execution not found');
    return c.json(toExecutionDetail(record), 200);
  });

  app.openapi(listExecutionsRoute, async (c) => {
    const query = c.req.valid('query');
    const records = await listExecutions(deps.pool, {
      parent_execution_id: query.parent_execution_id,
      status: query.status,
      tag: query.tag,
      before_id: query.cursor,
      limit: query.limit + 1,
    });
    const page = records.slice(0, query.limit);
    const nextCursor = records.length > query.limit ? page.at(-1)!.id : null;
    return c.json({ items: page.map(toExecutionDetail), next_cursor: nextCursor }, 200);
  });

  return app;
}
