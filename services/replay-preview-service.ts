/**
 * Replay previews, for the api: the replay's own checks (services/replay-request.ts), its source
 * (services/replay-source.ts) and listing, counted without publishing (services/replay-preview.ts).
 * A preview counted within its request answers at once and is stored nowhere; one that is not done
 * within its budget continues as a preview job (a `previewReplay` workflow) from where the request
 * stopped, and is read back by id.
 */
import { getExecution, isTagTaken } from '../adapters/executions.ts';
import { newExecutionId } from '../adapters/ids.ts';
import type { Logger } from '../adapters/logger.ts';
import { deleteReplayPreview, getReplayPreview, insertReplayPreview } from '../adapters/replay-previews.ts';
import { replayListing } from '../adapters/storage-paths.ts';
import {
  applicableRate,
  continueTally,
  newTally,
  previewView,
  type PreviewPlan,
  type PreviewView,
} from './replay-preview.ts';
import { prepareReplay, replayRequestLookups, type ReplayRequest } from './replay-request.ts';
import { resolveReplaySource } from './replay-source.ts';
import { objectSelection } from './replay-selection.ts';
import type { previewReplay } from '../workflows/preview-replay.ts';
import { PREVIEW_WORKFLOW_TYPE, previewWorkflowId } from '../workflows/definitions.ts';
import type { ServiceDependencies } from './dependencies.ts';
import { DependencyUnavailable, ServiceError, tagTakenError } from './errors.ts';

/** The part of the dependency timeout a preview spends listing within its request. */
const INLINE_SHARE = 0.5;

export interface PreviewCall {
  correlationId: string;
  logger: Logger;
}

export type ReplayPreviewService = ReturnType<typeof createReplayPreviewService>;

export function createReplayPreviewService(
  deps: Pick<ServiceDependencies, 'pool' | 'temporal' | 'objectStore' | 'settings'>,
) {
  const { pool, temporal, objectStore, settings } = deps;
  const lookups = replayRequestLookups(pool);

  /** What the replay of this request would be: checked exactly as the replay is. */
  async function planOf(parentRef: string, body: ReplayRequest): Promise<PreviewPlan> {
    const { parent, execution, config, route } = await prepareReplay(lookups, parentRef, body);
    if (body.tag && (await isTagTaken(pool, body.tag))) {
      throw tagTakenError(body.tag);
    }
    const source = await resolveReplaySource(
      {
        prefix: objectStore.prefix,
        hasAnyObject: (keyPrefix) => objectStore.hasAnyObject(keyPrefix),
        parentOf: async (id) => (await getExecution(pool, id))?.parent_execution_id ?? null,
      },
      execution.replay_source,
      parent.id,
      execution.from_stage,
    );
    const routeLimit = route.max_messages_per_second ?? null;
    return {
      execution_id: parent.id,
      source_execution_id: source,
      replay_source: execution.replay_source,
      from_stage: execution.from_stage,
      to_route: execution.to_route,
      from_path: execution.from_path,
      config: { id: config.id, name: config.name },
      route: { ...route, max_messages_per_second: routeLimit },
      rate: applicableRate(body.max_messages_per_second, routeLimit, {
        messages_per_second: settings.preview.publishRate,
        basis: 'default',
      }),
      selection: execution.selection,
    };
  }

  return {
    /**
     * Counts what the replay of `body` would publish. Within half the dependency timeout and
     * PREVIEW_INLINE_MAX_KEYS keys: the final answer (`completed`, no id). Past that: a preview job
     * goes on from the cursor reached, and the answer is its counts so far (`running`, with its id).
     */
    async preview(parentRef: string, body: ReplayRequest, call: PreviewCall): Promise<PreviewView> {
      const budgetEnds = Date.now() + settings.dependencyTimeoutMs * INLINE_SHARE;
      const plan = await planOf(parentRef, body);
      const listing = replayListing(
        objectStore.prefix,
        plan.source_execution_id,
        plan.from_stage,
        plan.from_path,
      );
      const tally = await continueTally(objectStore, listing, newTally(listing), {
        shouldStop: (counted) => counted.listed >= settings.preview.inlineMaxKeys || Date.now() >= budgetEnds,
        keysPerCall: (counted) => settings.preview.inlineMaxKeys - counted.listed,
        selection: objectSelection(objectStore, objectStore.prefix, plan.execution_id, plan.selection),
      });
      if (tally.done) return previewView(null, 'completed', plan, tally);

      const id = newExecutionId();
      const workflowId = previewWorkflowId(id);
      await insertReplayPreview(pool, { id, workflow_id: workflowId, request: body, plan, tally });
      try {
        await temporal.connection.withDeadline(Date.now() + settings.dependencyTimeoutMs, () =>
          temporal.workflow.start<typeof previewReplay>(PREVIEW_WORKFLOW_TYPE, {
            workflowId,
            taskQueue: settings.taskQueue,
            args: [{ previewId: id, settings: settings.replay }],
            memo: { correlation_id: call.correlationId },
            staticSummary: `preview: ${plan.from_stage} -> ${plan.to_route} of ${parentRef} (${plan.replay_source})`,
          }),
        );
      } catch (error) {
        // no job without its workflow: a workflow that did start finds no preview and ends
        await deleteReplayPreview(pool, id).catch(() => {});
        throw new DependencyUnavailable('Temporal did not start the preview job', error);
      }
      call.logger.info(
        { preview_id: id, workflow_id: workflowId, listed: tally.listed },
        'replay preview continues as a job',
      );
      return previewView(id, 'running', plan, tally);
    },

    async get(id: string): Promise<PreviewView> {
      const record = await getReplayPreview(pool, id);
      if (!record)
        throw new ServiceError('not-found', 'REPLAY_PREVIEW_NOT_FOUND', `Replay preview '${id}' not found`);
      return previewView(record.id, record.status, record.plan, record.tally, record.error);
    },
  };
}
