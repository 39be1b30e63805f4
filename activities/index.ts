export { createReplayActivities, failureTypes } from './replay-activities.ts';
export type * from './replay-activities.ts';
