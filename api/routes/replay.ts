import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { findExecutionByIdOrTag, getExecution, isTagTaken } from '../../adapters/executions.ts';
import { newExecutionId } from '../../adapters/ids.ts';
import { findRoute, getPipelineConfig } from '../../adapters/pipeline-configs.ts';
import { normaliseFromPath } from '../../adapters/storage-paths.ts';
import { replayWorkflowId } from '../../workflows/definitions.ts';
import type { AppEnv } from '../context.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { ApiError, RequestValidationError } from '../errors.ts';
import { toExecutionResponse } from '../execution-views.ts';
import {
  claimIdempotencyKey,
  findIdempotentExecution,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  releaseIdempotencyKey,
  requestHash,
} from '../idempotency.ts';
import { ReplayStartUncertain, startReplayWorkflow } from '../replay-starter.ts';
import { errorResponses } from '../responses.ts';
import { ExecutionIdParamSchema, ExecutionReplayRequestSchema, ExecutionResponseSchema } from '../schemas.ts';

const replayRoute = createRoute({
  method: 'post',
  path: '/api/v1/executions/{execution_id}/replay',
  tags: ['executions'],
  operationId: 'replay_execution_api_v1_executions__execution_id__replay_post',
  summary: 'Replay Execution',
  description: `Replay a previous pipeline execution.

Full replay coordinator:

  1. Creates a new execution record linked to the parent
  2. Starts routes via OrchestratorManager (skip init_message)
  3. Publishes replay messages from source storage to target route

For cross-pipeline replay, provide config_id in the request body to use a different pipeline's routes. Storage reads from the parent execution.`,
  request: {
    params: ExecutionIdParamSchema,
    headers: z.object({
      'idempotency-key': z
        .string()
        .min(1)
        .max(MAX_IDEMPOTENCY_KEY_LENGTH)
        .optional()
        .openapi({
          param: { name: 'idempotency-key', in: 'header' },
          description: 'Retry-safe key: the same key and body return the same execution',
        }),
    }),
    body: { required: true, content: { 'application/json': { schema: ExecutionReplayRequestSchema } } },
  },
  responses: {
    200: {
      description: 'Successful Response',
      content: { 'application/json': { schema: ExecutionResponseSchema } },
    },
    ...errorResponses,
  },
});

function manualNeedsFromPath(): RequestValidationError {
  return new RequestValidationError([
    {
      loc: ['body', 'from_path'],
      msg: "Field required when replay_source is 'manual'",
      type: 'missing',
      input: null,
    },
  ]);
}

export function replayRoutes(deps: ApiDependencies) {
  const app = new OpenAPIHono<AppEnv>();

  app.openapi(replayRoute, async (c) => {
    const { execution_id: parentRef } = c.req.valid('param');
    const body = c.req.valid('json');
    const idempotencyKey = c.req.valid('header')['idempotency-key'];
    const logger = c.get('logger');

    const hasFromPath = body.from_path !== undefined && body.from_path !== null && body.from_path !== '';
    if (body.replay_source === 'manual' && !hasFromPath) throw manualNeedsFromPath();

    const parent = await findExecutionByIdOrTag(deps.pool, parentRef);
    if (!parent) throw new ApiError(404, 'EXECUTION_NOT_FOUND', `Execution '${parentRef}' not found`);

    const parentConfig = await getPipelineConfig(deps.pool, parent.config_id);
    if (!parentConfig)
      throw new ApiError(
        404,
        'CONFIG_NOT_FOUND',
        `Pipeline config ${parent.config_id} of the parent execution not found`,
      );
    const targetConfig = body.config_id ? await getPipelineConfig(deps.pool, body.config_id) : parentConfig;
    if (!targetConfig)
      throw new ApiError(404, 'CONFIG_NOT_FOUND', `Pipeline config ${body.config_id} not found`);

    const route = findRoute(targetConfig, body.to_route);
    if (!route) {
      const available = targetConfig.routes.map((item) => item.name).join(', ');
      throw new ApiError(
        400,
        'INVALID_ROUTE',
        `Route '${body.to_route}' is not a route of config ${targetConfig.id} (routes: ${available})`,
      );
    }
    if (!parentConfig.stages.includes(body.from_stage)) {
      throw new ApiError(
        400,
        'INVALID_STAGE',
        `Stage '${body.from_stage}' is not a stage of the parent's config (stages: ${parentConfig.stages.join(', ')})`,
      );
    }
    if (route.input_stage !== body.from_stage) {
      throw new ApiError(
        400,
        'STAGE_ROUTE_MISMATCH',
        `Route '${route.name}' reads stage '${route.input_stage}', not '${body.from_stage}'`,
      );
    }
    let fromPath: string | null = null;
    if (hasFromPath) {
      const normalised = normaliseFromPath(body.from_path!);
      if (!normalised.ok) throw new ApiError(400, 'INVALID_FROM_PATH', `from_path ${normalised.reason}`);
      fromPath = normalised.path || null;
      if (body.replay_source === 'manual' && fromPath === null) throw manualNeedsFromPath();
    }

    // Idempotency-Key: a retry of a request that created its execution gets that execution back.
    const hash = idempotencyKey ? requestHash({ parent: parent.id, body }) : undefined;
    if (idempotencyKey) {
      const earlier = await findIdempotentExecution(deps.pool, idempotencyKey, hash!);
      const existing = earlier ? await getExecution(deps.pool, earlier) : undefined;
      if (existing) return c.json(toExecutionResponse(existing), 200);
    }
    if (body.tag && (await isTagTaken(deps.pool, body.tag))) {
      throw new ApiError(409, 'TAG_CONFLICT', `Tag '${body.tag}' is already used by another execution`);
    }
    let executionId = newExecutionId();
    let claimedKey = false;
    if (idempotencyKey) {
      // concurrent requests with one key: one claims it, the others join its execution (same workflow id)
      const claim = await claimIdempotencyKey(deps.pool, idempotencyKey, hash!, executionId);
      executionId = claim.executionId;
      claimedKey = claim.firstRequest;
    }

    let started;
    try {
      started = await startReplayWorkflow(
        deps.temporal,
        {
          execution: {
            id: executionId,
            config_id: targetConfig.id,
            parent_execution_id: parent.id,
            root_execution_id: parent.root_execution_id ?? parent.id,
            replay_source: body.replay_source,
            from_stage: body.from_stage,
            to_route: body.to_route,
            from_path: fromPath,
            tag: body.tag ?? null,
            metadata: body.metadata ?? {},
            workflow_id: replayWorkflowId(executionId),
          },
          pageSize: deps.settings.pageSize,
          pagesPerRun: deps.settings.pagesPerRun,
          stepMaxAttempts: deps.settings.stepMaxAttempts,
          activityTimeoutSeconds: deps.settings.activityTimeoutSeconds,
        },
        {
          taskQueue: deps.settings.taskQueue,
          timeoutMs: deps.settings.dependencyTimeoutMs,
          memo: { request: { ...body, execution_id: parentRef }, correlation_id: c.get('correlationId') },
          idempotent: idempotencyKey !== undefined,
        },
      );
    } catch (error) {
      // a refused request leaves no claim behind, unless its replay exists or may still start
      const uncertain = error instanceof ReplayStartUncertain;
      if (claimedKey && !uncertain && !(await getExecution(deps.pool, executionId).catch(() => undefined))) {
        await releaseIdempotencyKey(deps.pool, idempotencyKey!, executionId).catch(() => {});
      }
      throw error;
    }
    // joined an Idempotency-Key's replay after its workflow had closed: its record is the answer
    const record = started === 'already-closed' ? await getExecution(deps.pool, executionId) : started;
    if (!record)
      throw new ApiError(503, 'SERVICE_UNAVAILABLE', `Replay ${executionId} closed without a record`);
    logger.info(
      { execution_id: record.id, workflow_id: record.workflow_id, parent_execution_id: parent.id },
      'replay started',
    );
    return c.json(toExecutionResponse(record), 200);
  });

  return app;
}
