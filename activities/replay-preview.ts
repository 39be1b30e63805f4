import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  cancelReplayPreview,
  failReplayPreview,
  getReplayPreview,
  saveReplayPreviewTally,
} from '../adapters/replay-previews.ts';
import { replayListing } from '../adapters/storage-paths.ts';
import { continueTally } from '../services/replay-preview.ts';
import { objectSelection } from '../services/replay-selection.ts';
import { failureTypes } from '../domain/replay.ts';
import { type CountPreviewInput, type CountPreviewResult } from '../workflows/preview-replay.contract.ts';
import type { ReplayActivityDependencies } from './dependencies.ts';
import { whileHeartbeating } from './heartbeat.ts';

/** How often a counting preview stores its counts (GET shows them) besides the end of a slice. */
const SAVE_EVERY_MS = 1000;

export function createPreviewActivities({ pool, objectStore, logger }: ReplayActivityDependencies) {
  return {
    /**
     * Counts a preview for up to `sliceSeconds` from the cursor stored with it, storing the counts
     * (with their cursor) every second and at the end: a retried attempt goes on from the last
     * stored cursor, and counts each object once. Heartbeats on a timer while it counts.
     */
    async countReplayPreview(input: CountPreviewInput): Promise<CountPreviewResult> {
      const context = Context.current();
      const preview = await getReplayPreview(pool, input.previewId);
      if (!preview) {
        throw ApplicationFailure.nonRetryable(
          `replay preview ${input.previewId} not found`,
          failureTypes.executionNotFound,
        );
      }
      const { plan } = preview;
      if (preview.status !== 'running') {
        return { done: true, count: preview.tally.count, listed: preview.tally.listed };
      }
      const listing = replayListing(
        objectStore.prefix,
        plan.source_execution_id,
        plan.from_stage,
        plan.from_path,
      );
      const sliceEnds = Date.now() + input.sliceSeconds * 1000;
      let savedAt = Date.now();
      let progress = { listed: preview.tally.listed, count: preview.tally.count };
      const selection = objectSelection(objectStore, objectStore.prefix, plan.execution_id, plan.selection);
      const count = () =>
        continueTally(objectStore, listing, preview.tally, {
          selection,
          shouldStop: () => Date.now() >= sliceEnds || context.cancellationSignal.aborted,
          onPage: async (counted) => {
            progress = { listed: counted.listed, count: counted.count };
            if (!counted.done && Date.now() - savedAt >= SAVE_EVERY_MS) {
              await saveReplayPreviewTally(pool, preview.id, counted);
              savedAt = Date.now();
            }
          },
        });
      // one listing call may take longer than the heartbeat timeout: heartbeat on a timer
      const tally = await whileHeartbeating(count, () => progress);
      await saveReplayPreviewTally(pool, preview.id, tally);
      if (tally.done) {
        logger.info(
          { preview_id: preview.id, count: tally.count, bytes: tally.bytes, listed: tally.listed },
          'replay preview counted',
        );
      }
      return { done: tally.done, count: tally.count, listed: tally.listed };
    },

    /** A preview whose counting spent its retries: failed, with the reason, for GET to show. */
    async failReplayPreview(input: { previewId: string; error: string }): Promise<void> {
      await failReplayPreview(pool, input.previewId, input.error);
    },

    /** A preview whose job was cancelled: `cancelled`, so GET no longer shows it running. Idempotent. */
    async cancelReplayPreview(input: { previewId: string }): Promise<void> {
      await cancelReplayPreview(pool, input.previewId);
      logger.info({ preview_id: input.previewId }, 'replay preview cancelled');
    },
  };
}
