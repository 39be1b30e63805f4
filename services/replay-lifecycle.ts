/**
 * Operating a replay (or a normal execution) after it started: resume, cancel, pause and its own
 * rate limit. Each goes through the replay's workflow (a signal, an update), as the Temporal UI and
 * CLI do; a replay whose workflow was closed outside the service is changed in Postgres, where its
 * next run reads it, or gets a new run that loads its state. Each waits (bounded) until the record
 * shows the action applied, and says whether it did.
 */
import { withTransaction } from '../adapters/database.ts';
import {
  findExecutionByIdOrTag,
  getExecution,
  setExecutionStatus,
  setReplayPaused,
  setReplayRate,
  setRoutesStatus,
  type ExecutionRecord,
} from '../adapters/executions.ts';
import type { Logger } from '../adapters/logger.ts';
import { findRoute, getPipelineConfig } from '../adapters/pipeline-configs.ts';
import { isFinished } from '../domain/replay.ts';
import type { ReplayWorkflowInput } from '../workflows/replay-execution.contract.ts';
import {
  cancelSignal,
  pauseSignal,
  REPLAY_WORKFLOW_TYPE,
  resumeSignal,
  setRateUpdate,
} from '../workflows/definitions.ts';
import type { replayExecution } from '../workflows/replay-execution.ts';
import { replayUserMetadata } from '../workflows/user-metadata.ts';
import type { ServiceDependencies } from './dependencies.ts';
import { ServiceError } from './errors.ts';
import { workflowControl } from './workflow-control.ts';

export interface LifecycleCall {
  correlationId: string;
  logger: Logger;
}

/** The record after an action, and whether the workflow has applied it yet. */
export interface Settled {
  record: ExecutionRecord;
  applied: boolean;
}

type ReplayRecord = ExecutionRecord & { workflow_id: string };

/** The replay workflow's input rebuilt from a record, for a new run that reloads its state. */
function resumeInput(
  record: ExecutionRecord,
  deps: Pick<ServiceDependencies, 'settings'>,
): ReplayWorkflowInput {
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
      reason: record.reason,
      requested_by: record.requested_by,
    },
    settings: deps.settings.replay,
    resume: true,
  };
}

export function createReplayLifecycle(deps: Pick<ServiceDependencies, 'pool' | 'temporal' | 'settings'>) {
  const { pool, temporal, settings } = deps;
  const control = workflowControl(temporal, settings.dependencyTimeoutMs);

  async function find(ref: string): Promise<ExecutionRecord> {
    const record = await findExecutionByIdOrTag(pool, ref);
    if (!record) throw new ServiceError('not-found', 'EXECUTION_NOT_FOUND', `Execution '${ref}' not found`);
    return record;
  }

  /** A replay that has not finished: pause and rate limits apply to nothing else. */
  async function findRunningReplay(ref: string): Promise<ReplayRecord> {
    const record = await find(ref);
    if (!record.workflow_id || !record.from_stage)
      throw new ServiceError('conflict', 'NOT_A_REPLAY', `Execution ${record.id} is not a replay`);
    if (isFinished(record.status))
      throw new ServiceError(
        'conflict',
        'EXECUTION_FINISHED',
        `Execution ${record.id} is already ${record.status}`,
      );
    return record as ReplayRecord;
  }

  /** The UI's summary and details of a new run for a closed replay, as its first run had them. */
  async function resumedUserMetadata(input: ReplayWorkflowInput) {
    const { execution } = input;
    const [parent, config] = await Promise.all([
      getExecution(pool, execution.parent_execution_id),
      getPipelineConfig(pool, execution.config_id),
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
          ...(execution.reason ? { reason: execution.reason } : {}),
        },
        config: { id: config.id, name: config.name },
        route,
      },
      input.settings,
    );
  }

  async function settle(id: string, done: (record: ExecutionRecord) => boolean): Promise<Settled> {
    const settled = await control.settle(() => getExecution(pool, id), done);
    return { record: settled.value, applied: settled.applied };
  }

  return {
    /**
     * An interrupted or paused replay goes on from its cursor: its waiting workflow is signalled, or
     * a closed one gets a new run. Of two concurrent resumes of a closed replay, the second is a
     * conflict.
     */
    async resume(ref: string, call: LifecycleCall): Promise<Settled> {
      const record = await find(ref);
      const resumable = record.status === 'interrupted' || (record.status === 'running' && record.paused);
      if (!resumable || !record.workflow_id) {
        throw new ServiceError(
          'conflict',
          'EXECUTION_NOT_INTERRUPTED',
          `Execution ${record.id} is ${record.status}${record.paused ? ' and paused' : ''}; only an interrupted or paused replay can be resumed`,
        );
      }
      const workflowId = record.workflow_id;
      if (await control.isOpen(workflowId)) {
        await control.signal(workflowId, (handle) => handle.signal(resumeSignal));
      } else {
        // the new run loads `paused` from the record: a resume unpauses it first
        if (record.paused) await setReplayPaused(pool, record.id, false);
        const input = resumeInput(record, deps);
        const userMetadata = await resumedUserMetadata(input);
        await control.startClosed(
          () =>
            temporal.workflow.start<typeof replayExecution>(REPLAY_WORKFLOW_TYPE, {
              workflowId,
              taskQueue: settings.taskQueue,
              args: [input],
              workflowIdConflictPolicy: 'FAIL',
              memo: { resumed_by: call.correlationId },
              ...userMetadata,
            }),
          () =>
            new ServiceError(
              'conflict',
              'EXECUTION_NOT_INTERRUPTED',
              `Execution ${record.id} is being resumed by another request`,
            ),
        );
      }
      call.logger.info({ execution_id: record.id, workflow_id: workflowId }, 'replay resumed');
      return settle(record.id, (item) => item.status !== 'interrupted' && !item.paused);
    },

    /** A running or interrupted execution stops; its record and routes become cancelled. */
    async cancel(ref: string, call: LifecycleCall): Promise<Settled> {
      const record = await find(ref);
      if (isFinished(record.status)) {
        throw new ServiceError(
          'conflict',
          'EXECUTION_FINISHED',
          `Execution ${record.id} is already ${record.status}`,
        );
      }
      const workflowId = record.workflow_id;
      if (workflowId && (await control.isOpen(workflowId))) {
        await control.signal(workflowId, (handle) =>
          handle.signal(cancelSignal, `cancelled through the api (${call.correlationId})`),
        );
      } else {
        // no workflow to ask (a normal execution, or a replay whose workflow was closed): cancel here
        await withTransaction(pool, async (client) => {
          await setExecutionStatus(client, record.id, 'cancelled', 'cancelled through the api');
          await setRoutesStatus(client, record.id, 'cancelled');
        });
      }
      call.logger.info({ execution_id: record.id, workflow_id: workflowId }, 'execution cancel requested');
      return settle(record.id, (item) => item.status === 'cancelled');
    },

    /** Publishing stops before the next page; pausing a paused replay changes nothing. */
    async pause(ref: string, call: LifecycleCall): Promise<Settled> {
      const record = await findRunningReplay(ref);
      if (!record.paused) {
        if (await control.isOpen(record.workflow_id)) {
          await control.signal(record.workflow_id, (handle) => handle.signal(pauseSignal));
        } else {
          await setReplayPaused(pool, record.id, true);
        }
        call.logger.info({ execution_id: record.id }, 'replay pause requested');
      }
      return settle(record.id, (item) => item.paused || isFinished(item.status));
    },

    /** Sets (a number) or lifts (null) the replay's own rate limit, from its next page on. */
    async changeRate(ref: string, rate: number | null, call: LifecycleCall): Promise<ExecutionRecord> {
      const record = await findRunningReplay(ref);
      if (await control.isOpen(record.workflow_id)) {
        await control.signal(record.workflow_id, async (handle) => {
          await handle.executeUpdate(setRateUpdate, { args: [rate] });
        });
      } else {
        await setReplayRate(pool, record.id, rate);
      }
      call.logger.info({ execution_id: record.id, max_messages_per_second: rate }, 'replay rate changed');
      return (await getExecution(pool, record.id))!;
    },
  };
}
