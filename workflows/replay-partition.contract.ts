/** The contract of `replayPartition` and of the steps that plan and track partitions. */
import type { ReplaySettings } from './replay-execution.contract.ts';

export interface PlanPartitionsInput {
  executionId: string;
  maxPartitions: number;
}

export interface ReplayPartitionInput {
  executionId: string;
  partition: number;
  settings: ReplaySettings;
  /** Carried across continue-as-new: what this partition published so far. */
  published?: number;
}

export interface ReplayPartitionOutcome {
  partition: number;
  published: number;
}

export interface SetPartitionStatusInput {
  executionId: string;
  partition: number;
  status: 'running' | 'interrupted';
  error: string | null;
}
