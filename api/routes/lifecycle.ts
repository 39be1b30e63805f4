import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { withTransaction } from '../../adapters/database.ts';
import {
  findExecutionByIdOrTag,
  getExecution,
  setExecutionStatus,
  setReplayPaused,
  setRoutesStatus,
  type ExecutionRecord,
} from '../../adapters/executions.ts';
import { findRoute, getPipelineConfig } from '../../adapters/pipeline-configs.ts';
import { cancelSignal, REPLAY_WORKFLOW_TYPE, resumeSignal } from '../../workflows/definitions.ts';
import { replayUserMetadata } from '../../workflows/user-metadata.ts';
import type { ReplayWorkflowInput } from '../../workflows/contract.ts';
import type { replayExecution } from '../../workflows/replay-execution.ts';
import type { AppEnv } from '../context.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { ApiError } from '../errors.ts';
import { toExecutionResponse } from '../execution-views.ts';
import { errorResponses, executionLinks, operationIds } from '../responses.ts';
import { workflowControl } from '../workflow-control.ts';
import { ExecutionIdParamSchema, ExecutionResponseSchema } from '../schemas.ts';

const FINISHED = new Set(['completed', 'failed', 'cancelled']);

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
    responses: {
      200: {
        description: 'The execution after the action',
        content: { 'application/json': { schema: ExecutionResponseSchema } },
        links: { GetExecution: executionLinks.GetExecution },
      },
      202: {
        description: 'Accepted; the workflow has not applied it yet',
        content: { 'application/json': { schema: ExecutionResponseSchema } },
        links: { GetExecution: executionLinks.GetExecution },
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

/** The replay workflow's input rebuilt from a record, for a new run that reloads its state. */
function resumeInput(record: ExecutionRecord, deps: ApiDependencies): ReplayWorkflowInput {
  return {
    execution: {
      id: record.id,
      config_id: record.config_id,
      parent_execution_id: record.parent_execution_id!,
      root_execution_id: record.root_execution_id,
      replay_source: record.replay_source!,
      from_stage: record.from_stage!,
      to_route: record.to_route!,
      from_path: record.from_path,
      tag: record.tag,
      metadata: record.metadata,
      workflow_id: record.workflow_id!,
    },
    settings: deps.settings.replay,
    resume: true,
  };
}

export function lifecycleRoutes(deps: ApiDependencies) {
  const app = new OpenAPIHono<AppEnv>();
  const control = workflowControl(deps.temporal, deps.settings.dependencyTimeoutMs);

  async function find(ref: string): Promise<ExecutionRecord> {
    const record = await findExecutionByIdOrTag(deps.pool, ref);
    if (!record) throw new ApiError(404, 'EXECUTION_NOT_FOUND', `Execution '${ref}' not found`);
    return record;
  }

  /** The UI's summary and details of a new run for a closed replay, as its first run had them. */
  async function resumedUserMetadata(input: ReplayWorkflowInput) {
    const { execution } = input;
    const [parent, config] = await Promise.all([
      getExecution(deps.pool, execution.parent_execution_id),
      getPipelineConfig(deps.pool, execution.config_id),
    ]);
    const route = config && findRoute(config, execution.to_route);
    if (!config || !route) return {};
    return replayUserMetadata(
      execution,
      {
        parent_ref: parent?.tag ?? execution.parent_execution_id,
        // the request as the record keeps it; this run was started by a resume
        request: {
          replay_source: execution.replay_source,
          from_stage: execution.from_stage,
          to_route: execution.to_route,
          from_path: execution.from_path,
          tag: execution.tag,
          metadata: execution.metadata,
          config_id: execution.config_id,
        },
        config: { id: config.id, name: config.name },
        route,
      },
      input.settings,
    );
  }

  /** Waits (bounded) until the workflow has applied the action to the record. */
  async function settle(id: string, done: (record: ExecutionRecord) => boolean) {
    const settled = await control.settle(() => getExecution(deps.pool, id), done);
    return { record: settled.value, applied: settled.applied };
  }

  app.openapi(resumeRoute, async (c) => {
    const record = await find(c.req.valid('param').execution_id);
    const resumable = record.status === 'interrupted' || (record.status === 'running' && record.paused);
    if (!resumable || !record.workflow_id) {
      throw new ApiError(
        409,
        'EXECUTION_NOT_INTERRUPTED',
        `Execution ${record.id} is ${record.status}${record.paused ? ' and paused' : ''}; only an interrupted or paused replay can be resumed`,
      );
    }
    const workflowId = record.workflow_id;
    if (await control.isOpen(workflowId)) {
      await control.signal(workflowId, (handle) => handle.signal(resumeSignal));
    } else {
      // the new run loads `paused` from the record: a resume unpauses it first
      if (record.paused) await setReplayPaused(deps.pool, record.id, false);
      const input = resumeInput(record, deps);
      const userMetadata = await resumedUserMetadata(input);
      // two resumes of one closed replay: the one whose run starts first wins, the other is a 409
      await control.startClosed(
        () =>
          deps.temporal.workflow.start<typeof replayExecution>(REPLAY_WORKFLOW_TYPE, {
            workflowId,
            taskQueue: deps.settings.taskQueue,
            args: [input],
            workflowIdConflictPolicy: 'FAIL',
            memo: { resumed_by: c.get('correlationId') },
            ...userMetadata,
          }),
        () =>
          new ApiError(
            409,
            'EXECUTION_NOT_INTERRUPTED',
            `Execution ${record.id} is being resumed by another request`,
          ),
      );
    }
    c.get('logger').info({ execution_id: record.id, workflow_id: workflowId }, 'replay resumed');
    const settled = await settle(record.id, (item) => item.status !== 'interrupted' && !item.paused);
    return c.json(toExecutionResponse(settled.record), settled.applied ? 200 : 202);
  });

  app.openapi(cancelRoute, async (c) => {
    const record = await find(c.req.valid('param').execution_id);
    if (FINISHED.has(record.status)) {
      throw new ApiError(409, 'EXECUTION_FINISHED', `Execution ${record.id} is already ${record.status}`);
    }
    const workflowId = record.workflow_id;
    if (workflowId && (await control.isOpen(workflowId))) {
      await control.signal(workflowId, (handle) =>
        handle.signal(cancelSignal, `cancelled through the api (${c.get('correlationId')})`),
      );
    } else {
      // no workflow to ask (a normal execution, or a replay whose workflow was closed): cancel here
      await withTransaction(deps.pool, async (client) => {
        await setExecutionStatus(client, record.id, 'cancelled', 'cancelled through the api');
        await setRoutesStatus(client, record.id, 'cancelled');
      });
    }
    c.get('logger').info({ execution_id: record.id, workflow_id: workflowId }, 'execution cancel requested');
    const settled = await settle(record.id, (item) => item.status === 'cancelled');
    return c.json(toExecutionResponse(settled.record), settled.applied ? 200 : 202);
  });

  return app;
}
