/** `POST .../replay` latency at several concurrencies, measured with autocannon against the api process. */
import type { Client } from '@temporalio/client';
import autocannon from 'autocannon';
import { firstTaskTimes } from './history-profile.ts';

export interface LatencyRow {
  concurrency: number;
  requests: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  non_2xx: number;
  /** Profile of 40 of the replays started: their first workflow task's wait for a worker, and its run. */
  first_task_queued_p50_ms?: number;
  first_task_queued_p99_ms?: number;
  first_task_run_p50_ms?: number;
}

/** p50/p99 of the first workflow task of `sample` replays started after `since`. */
export async function profileFirstTasks(temporal: Client, since: Date, sample = 40) {
  const queued: number[] = [];
  const run: number[] = [];
  const query = `WorkflowType = 'replayExecution' AND StartTime > '${since.toISOString()}'`;
  for await (const execution of temporal.workflow.list({ query })) {
    if (queued.length >= sample) break;
    const history = await temporal.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    const times = firstTaskTimes(history.events ?? []);
    if (times) {
      queued.push(times.queuedMs);
      run.push(times.runMs);
    }
  }
  const percentile = (values: number[], p: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0);
  };
  return {
    first_task_queued_p50_ms: percentile(queued, 50),
    first_task_queued_p99_ms: percentile(queued, 99),
    first_task_run_p50_ms: percentile(run, 50),
  };
}

export async function measureReplayLatency(
  apiUrl: string,
  apiKey: string,
  parentId: string,
  concurrency: number,
  requests: number,
): Promise<LatencyRow> {
  const result = await autocannon({
    url: `${apiUrl}/api/v1/executions/${parentId}/replay`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({
      replay_source: 'storage',
      from_stage: 'markdown_segmented',
      to_route: 'embedding_generator',
    }),
    connections: concurrency,
    amount: requests,
    timeout: 30,
  });
  return {
    concurrency,
    requests: result.requests.total,
    p50_ms: result.latency.p50,
    // autocannon reports p97.5, not p95: the nearest percentile it gives, and the stricter one
    p95_ms: result.latency.p97_5,
    p99_ms: result.latency.p99,
    non_2xx: result.non2xx,
  };
}
