// The workflow bundle's entry: every workflow type the worker registers.
export { replayExecution } from './replay-execution.ts';
export { replayPartition } from './replay-partition.ts';
export { bulkReplay } from './bulk-replay.ts';
export { reconcileReplays } from './reconcile-replays.ts';
export { previewReplay } from './preview-replay.ts';
