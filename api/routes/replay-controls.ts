/**
 * Operators' controls of a running replay: pause (resume is api/routes/lifecycle.ts) and its own
 * rate limit. Both go through the replay's workflow (a signal, an update), as the Temporal UI and
 * CLI do; a replay whose workflow was closed outside the service is changed in Postgres, where its
 * next run reads them.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import {
  findExecutionByIdOrTag,
  getExecution,
  setReplayPaused,
  setReplayRate,
  type ExecutionRecord,
} from '../../adapters/executions.ts';
import { isFinished } from '../../domain/replay.ts';
import { pauseSignal, setRateUpdate } from '../../workflows/definitions.ts';
import type { AppEnv } from '../context.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { ApiError } from '../errors.ts';
import { toExecutionDetail } from '../execution-views.ts';
import { errorResponses, executionLinks, operationIds } from '../responses.ts';
import { ExecutionDetailSchema, ExecutionIdParamSchema, RateLimitSchema } from '../schemas.ts';
import { workflowControl } from '../workflow-control.ts';

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
    200: { description: 'Paused', content: json(ExecutionDetailSchema), links: executionLinks },
    202: {
      description: 'Accepted; the workflow has not applied it yet',
      content: json(ExecutionDetailSchema),
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
      links: executionLinks,
    },
    404: errorResponses[404],
    409: { ...errorResponses[409], description: 'Not a replay, or finished' },
    422: errorResponses[422],
    503: errorResponses[503],
  },
});

export function replayControlRoutes(deps: ApiDependencies) {
  const app = new OpenAPIHono<AppEnv>();
  const control = workflowControl(deps.temporal, deps.settings.dependencyTimeoutMs);

  async function findReplay(ref: string): Promise<ExecutionRecord & { workflow_id: string }> {
    const record = await findExecutionByIdOrTag(deps.pool, ref);
    if (!record) throw new ApiError(404, 'EXECUTION_NOT_FOUND', `Execution '${ref}' not found`);
    if (!record.workflow_id || !record.from_stage)
      throw new ApiError(409, 'NOT_A_REPLAY', `Execution ${record.id} is not a replay`);
    if (isFinished(record.status))
      throw new ApiError(409, 'EXECUTION_FINISHED', `Execution ${record.id} is already ${record.status}`);
    return record as ExecutionRecord & { workflow_id: string };
  }

  app.openapi(pauseRoute, async (c) => {
    const record = await findReplay(c.req.valid('param').execution_id);
    if (!record.paused) {
      if (await control.isOpen(record.workflow_id)) {
        await control.signal(record.workflow_id, (handle) => handle.signal(pauseSignal));
      } else {
        await setReplayPaused(deps.pool, record.id, true);
      }
      c.get('logger').info({ execution_id: record.id }, 'replay pause requested');
    }
    const settled = await control.settle(
      () => getExecution(deps.pool, record.id),
      (item) => item.paused || isFinished(item.status),
    );
    return c.json(toExecutionDetail(settled.value), settled.applied ? 200 : 202);
  });

  app.openapi(changeRoute, async (c) => {
    const record = await findReplay(c.req.valid('param').execution_id);
    const rate = c.req.valid('json').max_messages_per_second;
    if (await control.isOpen(record.workflow_id)) {
      await control.signal(record.workflow_id, async (handle) => {
        await handle.executeUpdate(setRateUpdate, { args: [rate] });
      });
    } else {
      await setReplayRate(deps.pool, record.id, rate);
    }
    c.get('logger').info({ execution_id: record.id, max_messages_per_second: rate }, 'replay rate changed');
    return c.json(toExecutionDetail((await getExecution(deps.pool, record.id))!), 200);
  });

  return app;
}
