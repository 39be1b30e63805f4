export { createReplayActivities, failureTypes } from './replay-activities.ts';
export type * from './replay-activities.ts';
export { createReconcileActivities, reconcileClosedReplays } from './reconcile.ts';
export type * from './reconcile.ts';
