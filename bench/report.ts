import { readFile, writeFile } from 'node:fs/promises';

const NOTES_MARKER = '<!-- notes: everything below is kept when the tables are regenerated -->';

interface Results {
  machine: string;
  date: string;
  commit: string;
  store: string;
  runs: object[];
  api_latency: object[];
}

/** Rewrites the generated tables at the top of RESULTS.md and keeps the hand-written notes below them. */
export async function writeResultsMarkdown(results: Results, file: string): Promise<void> {
  const existing = await readFile(file, 'utf8').catch(() => '');
  const notes = existing.includes(NOTES_MARKER)
    ? existing.slice(existing.indexOf(NOTES_MARKER))
    : `${NOTES_MARKER}\n`;
  const lines = [
    '# Benchmark results',
    '',
    `Machine: ${results.machine}. Date: ${results.date}. Commit: \`${results.commit}\`. Store: ${results.store}.`,
    'Produced by `npm run bench`; the same figures are in `bench/results.json`.',
    '',
    '| objects | replay s | replay msgs/s | baseline s | baseline msgs/s | ratio | store list keys/s | store seed objects/s | first message ms | worker peak RSS MB | max history events |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...(results.runs as Record<string, number>[]).map(
      (run) =>
        `| ${run.objects} | ${run.replay_seconds} | ${run.replay_msgs_per_s} | ${run.baseline_seconds} | ${run.baseline_msgs_per_s} | ${run.ratio} | ${run.store_list_keys_per_s} | ${run.store_seed_objects_per_s} | ${run.first_message_ms} | ${run.worker_peak_rss_mb} | ${run.max_history_events} |`,
    ),
    '',
    '`POST /api/v1/executions/{id}/replay` latency (autocannon; "p95" is autocannon\'s p97.5):',
    '',
    '| concurrency | requests | p50 ms | p95 ms | p99 ms | non-2xx | first task queued p50 / p99 ms | first task run p50 ms |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...(results.api_latency as Record<string, number>[]).map(
      (row) =>
        `| ${row.concurrency} | ${row.requests} | ${row.p50_ms} | ${row.p95_ms} | ${row.p99_ms} | ${row.non_2xx} | ${row.first_task_queued_p50_ms ?? ''} / ${row.first_task_queued_p99_ms ?? ''} | ${row.first_task_run_p50_ms ?? ''} |`,
    ),
    '',
  ];
  await writeFile(file, `${lines.join('\n')}\n${notes}`);
}
