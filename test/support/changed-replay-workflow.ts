/**
 * Two edits of `replayExecution` that test/workflow-histories.test.ts replays the committed
 * histories against, chosen by workflow id: a new first command added as is (it must break every
 * history), and the same command behind patched() (every history must still replay). They show that
 * the safety net catches an unguarded change and that the policy's recipe works on our histories.
 */
import { patched, sleep, workflowInfo } from '@temporalio/workflow';
import type { ReplayOutcome, ReplayWorkflowInput } from '../../workflows/replay-execution.contract.ts';
import { replayExecution as todaysReplayExecution } from '../../workflows/replay-execution.ts';

export const UNGUARDED_CHANGE_WORKFLOW_ID = 'unguarded-change';
export const PATCHED_CHANGE_WORKFLOW_ID = 'patched-change';

export async function replayExecution(input: ReplayWorkflowInput): Promise<ReplayOutcome> {
  if (workflowInfo().workflowId === UNGUARDED_CHANGE_WORKFLOW_ID) await sleep(1);
  else if (patched('histories-test-change')) await sleep(1);
  return todaysReplayExecution(input);
}
