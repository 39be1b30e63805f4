import { ApplicationFailure } from '@temporalio/activity';
import { withTransaction } from '../adapters/database.ts';
import {
  executionSummary,
  setExecutionStatus,
  setReplayPaused,
  setReplayRate,
  setRoutesStatus,
} from '../adapters/executions.ts';
import { countStatusChange } from '../adapters/metrics.ts';
import { failureTypes, type ExecutionSummary } from '../domain/replay.ts';
import type { PausedReason } from '../domain/replay-canary.ts';
import { type SetStatusInput } from '../workflows/replay-execution.contract.ts';
import { activityLogger, type ReplayActivityDependencies } from './dependencies.ts';

export function createStatusActivities({ pool, logger }: ReplayActivityDependencies) {
  return {
    /**
     * Moves the record (and for cancel and failure, its routes) to a status; idempotent. A finished
     * record keeps its status: the answer is the record as it stands.
     */
    async setExecutionStatus(input: SetStatusInput): Promise<ExecutionSummary> {
      const record = await withTransaction(pool, async (client) => {
        const updated = await setExecutionStatus(
          client,
          input.executionId,
          input.status,
          input.error ?? null,
        );
        if (updated?.status === input.status && (input.status === 'cancelled' || input.status === 'failed'))
          await setRoutesStatus(client, input.executionId, input.status);
        return updated;
      });
      if (!record)
        throw ApplicationFailure.nonRetryable(
          `execution ${input.executionId} not found`,
          failureTypes.executionNotFound,
        );
      activityLogger(logger, input.executionId).info(
        { status: record.status, requested: input.status, error: input.error },
        'execution status changed',
      );
      countStatusChange(record);
      return executionSummary(record);
    },

    /**
     * Pauses (for `reason`: an operator's unless told) or unpauses publishing: a page's transaction
     * refuses to commit while paused. Idempotent.
     */
    async setReplayPaused(input: {
      executionId: string;
      paused: boolean;
      reason?: PausedReason;
    }): Promise<boolean> {
      const record = await setReplayPaused(pool, input.executionId, input.paused, input.reason);
      activityLogger(logger, input.executionId).info(
        { paused: record?.paused, paused_reason: record?.paused_reason },
        'replay pause changed',
      );
      return record?.paused ?? input.paused;
    },

    /** Sets (or, null, lifts) the replay's own limit; the publishing activity reads it before each page. */
    async setReplayRate(input: {
      executionId: string;
      maxMessagesPerSecond: number | null;
    }): Promise<number | null> {
      const record = await setReplayRate(pool, input.executionId, input.maxMessagesPerSecond);
      activityLogger(logger, input.executionId).info(
        { max_messages_per_second: record?.max_messages_per_second },
        'replay rate changed',
      );
      return record?.max_messages_per_second ?? null;
    },
  };
}
