/** The contract of `previewReplay` (a preview that continues as a job) and of its counting step. */
import type { ReplaySettings } from './replay-execution.contract.ts';

/** A replay preview that continues as a job (api/replay-preview-service.ts): its row holds the plan. */
export interface PreviewWorkflowInput {
  previewId: string;
  /** The replay settings: the preview counts on the publish task queue, in slices, with the same retries. */
  settings: ReplaySettings;
}

export interface CountPreviewInput {
  previewId: string;
  sliceSeconds: number;
}

export interface CountPreviewResult {
  /** The listing is finished and the preview `completed` (or the preview is no longer running). */
  done: boolean;
  count: number;
  listed: number;
}

export interface PreviewOutcome {
  preview_id: string;
  status: 'completed' | 'failed' | 'cancelled';
  error: string | null;
}
