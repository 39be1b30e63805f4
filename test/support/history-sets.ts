/**
 * The recorded workflow histories under test/histories/: one directory per set, each with its
 * manifest. Written by scripts/record-histories.ts, replayed by test/workflow-histories.test.ts
 * (docs/workflow-versioning.md).
 */
import { fileURLToPath } from 'node:url';

export const HISTORIES_DIR = fileURLToPath(new URL('../histories', import.meta.url));

/** The scenarios the recorder runs; every one must be in some committed set. */
export const SCENARIOS = [
  'one-page',
  'continue-as-new',
  'interrupted-resumed',
  'cancelled-publishing',
  'cancelled-between-attempts',
  'cancelled-interrupted',
  'terminated-resumed',
  'bulk-bad-parent',
  'preview-job',
  'partitioned',
  'paused-resumed',
  'partition-failed',
  'bulk-resumed-cancelled',
  'preview-cancelled',
  'bulk-child-not-started',
  'canary-paused',
  'bulk-paused-resumed',
  'bulk-failed-children-paused',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface RecordedHistory {
  /** File name inside the set. */
  file: string;
  scenario: ScenarioName;
  workflow_type: string;
  workflow_id: string;
  run_id: string;
  description: string;
}

export interface HistorySetManifest {
  set: string;
  recorded_at: string;
  /** The commit whose workflow code made these histories. */
  commit: string;
  /** SHA-256 of the workflow bundle that ran them (the hash in the worker's default build id). */
  workflow_bundle_sha256: string;
  histories: RecordedHistory[];
}
