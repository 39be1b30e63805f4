import { readFile, writeFile } from 'node:fs/promises';

const NOTES_MARKER = '<!-- notes: everything below is kept when the tables are regenerated -->';

interface Results {
  machine: string;
  date: string;
  commit: string;
  store: string;
  runs: object[];
  api_latency: object[];
  /** `npm run bench -- --transport kafka|sqs`: the same measurement into a broker, by transport. */
  transports?: Record<string, TransportResults>;
}

export interface TransportResults {
  machine: string;
  date: string;
  commit: string;
  store: string;
  broker: string;
  runs: object[];
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
    ...transportLines(results.transports ?? {}),
  ];
  await writeFile(file, `${lines.join('\n')}\n${notes}`);
}

/** The broker transports' rows: replay into the broker against a plain produce loop into it. */
function transportLines(transports: Record<string, TransportResults>): string[] {
  const kinds = Object.keys(transports).sort();
  if (kinds.length === 0) return [];
  return [
    '## Route transports',
    '',
    'Replay into a broker (`npm run bench -- --transport kafka|sqs`) against a plain produce loop into the same broker, same topic or queue, same client, in the same run.',
    '',
    '| transport | broker | date | commit | objects | replay s | replay msgs/s | produce loop s | produce loop msgs/s | ratio | publish / list / gap ms per page |',
    '| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...kinds.flatMap((kind) =>
      (transports[kind]!.runs as Record<string, number>[]).map(
        (run) =>
          `| ${kind} | ${transports[kind]!.broker} | ${transports[kind]!.date.slice(0, 10)} | \`${transports[kind]!.commit}\` | ${run.objects} | ${run.replay_seconds} | ${run.replay_msgs_per_s} | ${run.baseline_seconds} | ${run.baseline_msgs_per_s} | ${run.ratio} | ${run.publish_ms_mean ?? ''} / ${run.list_ms_mean ?? ''} / ${run.page_gap_ms_mean ?? ''} |`,
      ),
    ),
    '',
  ];
}
