import {
  CancellationScope,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
} from '@temporalio/workflow';
import type { ReplayActivities } from '../activities/index.ts';
import type { PreviewOutcome, PreviewWorkflowInput } from './preview-replay.contract.ts';
import { describe } from './failures.ts';
import { activityOptions, STEP_RETRY } from './publish-loop.ts';

/** Marks the runs whose cancel is recorded on the preview (before: the row stayed `running`). */
const PREVIEW_CANCEL_PATCH = 'preview-cancel-recorded';

/**
 * A replay preview too large to count within its request: a heartbeating activity on the publish
 * task queue lists from the cursor stored with the preview, a slice at a time, storing the counts
 * as it goes (GET /api/v1/replay-previews/{id} reads them). A step that spends its retries fails
 * the preview; asking again starts a new one. A cancel (Temporal UI or CLI) makes it `cancelled`.
 */
export async function previewReplay(input: PreviewWorkflowInput): Promise<PreviewOutcome> {
  const { previewId, settings } = input;
  const { countReplayPreview } = proxyActivities<ReplayActivities>(
    activityOptions(settings, 'count the objects the replay would publish'),
  );
  const { failReplayPreview, cancelReplayPreview } = proxyLocalActivities<ReplayActivities>({
    startToCloseTimeout: '30s',
    retry: STEP_RETRY,
  });

  try {
    for (;;) {
      const result = await countReplayPreview({ previewId, sliceSeconds: settings.sliceSeconds });
      if (result.done) return { preview_id: previewId, status: 'completed', error: null };
    }
  } catch (error) {
    if (isCancellation(error) && patched(PREVIEW_CANCEL_PATCH)) {
      // the workflow's scope is cancelled: the cleanup runs in one that is not, or never at all
      await CancellationScope.nonCancellable(() => cancelReplayPreview({ previewId }));
      return { preview_id: previewId, status: 'cancelled', error: null };
    }
    const message = describe(error);
    await failReplayPreview({ previewId, error: message });
    return { preview_id: previewId, status: 'failed', error: message };
  }
}
