import { readFile, writeFile } from 'node:fs/promises';

const NOTES_MARKER = '<!-- notes: everything below is kept when the tables are regenerated -->';

type Row = Record<string, any>;
type Section = Row & { date?: string; commit?: string };

const table = (header: string[], rows: unknown[][]) => [
  `| ${header.join(' | ')} |`,
  `| ${header.map(() => '---:').join(' | ')} |`,
  ...rows.map(
    (row) =>
      `| ${row.map((cell) => (cell === undefined || cell === null ? '' : String(cell))).join(' | ')} |`,
  ),
];

const rolesOf = (section: Section) =>
  section.worker_roles === 'split'
    ? ' Workers: a process per role (`workflows`, `publish`).'
    : section.worker_roles === 'together'
      ? ' Workers: one process polling both task queues.'
      : '';
const stampOf = (section: Section) =>
  `Date: ${section.date}. Commit: \`${section.commit}\`.${rolesOf(section)}${section.temporal === 'cluster' ? ' On the Temporal cluster (`--temporal cluster`), not the dev server.' : ''}`;

const THROUGHPUT_HEADER = [
  'objects',
  'replay s',
  'replay msgs/s',
  'baseline s',
  'baseline msgs/s',
  'ratio',
  'store list keys/s',
  'store seed objects/s',
  'first message ms',
  'worker peak RSS MB',
  'max history events',
];
const throughputRow = (run: Row) => [
  run.objects,
  run.replay_seconds,
  run.replay_msgs_per_s,
  run.baseline_seconds,
  run.baseline_msgs_per_s,
  run.ratio,
  run.store_list_keys_per_s,
  run.store_seed_objects_per_s,
  run.first_message_ms,
  run.worker_peak_rss_mb,
  run.max_history_events,
];

/** The same size on the store npm run dev starts, against the suite's run of that size. */
function defaultStoreLines(section: Section): string[] {
  const measured = section.default_store as
    { store: string; run: Row; suite_run?: Row; date?: string; commit?: string } | undefined;
  if (!measured) return [];
  const suiteRun =
    measured.suite_run ?? (section.runs as Row[]).find((run) => run.objects === measured.run.objects);
  const against = suiteRun
    ? `: ${(measured.run.replay_msgs_per_s / suiteRun.replay_msgs_per_s).toFixed(2)} of the suite's ${suiteRun.replay_msgs_per_s} msgs/s at that size (target ≥ 0.8)`
    : '';
  return [
    `What a new user meets: the same replay on the store \`npm run dev\` starts (${measured.store}), on a fresh stack in the same run${measured.date ? ` (${measured.date}, commit \`${measured.commit}\`)` : ''}${against}. ${measured.suite_run ? "The suite's run of that size first, then the default store's:" : ''}`,
    '',
    ...table(THROUGHPUT_HEADER, [
      ...(measured.suite_run ? [throughputRow(measured.suite_run)] : []),
      throughputRow(measured.run),
    ]),
    '',
  ];
}

function throughputLines(section: Section): string[] {
  return [
    '## Throughput: one replay against the plain loop',
    '',
    `${stampOf(section)} Store: ${section.store}.`,
    '',
    ...table(THROUGHPUT_HEADER, (section.runs as Row[]).map(throughputRow)),
    '',
    ...defaultStoreLines(section),
    '`POST /api/v1/executions/{id}/replay` latency, closed loop (autocannon; "p95" is autocannon\'s p97.5):',
    '',
    ...table(
      [
        'concurrency',
        'requests',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'non-2xx',
        'first task queued p50 / p99 ms',
        'first task run p50 ms',
      ],
      ((section.api_latency ?? []) as Row[]).map((row) => [
        row.concurrency,
        row.requests,
        row.p50_ms,
        row.p95_ms,
        row.p99_ms,
        row.non_2xx,
        `${row.first_task_queued_p50_ms ?? ''} / ${row.first_task_queued_p99_ms ?? ''}`,
        row.first_task_run_p50_ms,
      ]),
    ),
    '',
  ];
}

const errorsOf = (row: Row) =>
  row.errors === 0
    ? '0'
    : `${row.errors} (${Object.entries(row.error_statuses ?? {})
        .map(([status, count]) => `${count}×${status}`)
        .join(', ')}; p50 ${row.error_p50_ms} ms)`;

const CPU_PARTS = ['temporal', 'worker', 'api', 'postgres', 'store', 'ceiling_worker', 'bench'];

/** Where the cores went: CPU ms per start of each process, from /proc, per step. */
function cpuLines(rows: Row[]): string[] {
  const measured = rows.filter((row) => row.replay.cpu_ms_per_start);
  if (!measured.length) return [];
  return [
    'CPU per start (ms of CPU time each process spent per answered start, read from /proc over the step and its drain; 2 cores give 2,000 ms a second):',
    '',
    ...table(
      ['starts/s', 'path', ...CPU_PARTS, 'total'],
      measured.flatMap((row) =>
        (['ceiling', 'replay'] as const).map((path) => [
          row.rate,
          path,
          ...CPU_PARTS.map((part) => row[path].cpu_ms_per_start?.[part] ?? 0),
          row[path].cpu_ms_per_start?.total ?? 0,
        ]),
      ),
    ),
    '',
  ];
}

// the processes of either stack: the dev server is one `temporal` process, the cluster four
const CLUSTER_CPU_PARTS = [
  'temporal',
  'temporal_frontend',
  'temporal_history',
  'temporal_matching',
  'temporal_worker',
  'postgres_temporal',
  'postgres',
  'worker',
  'api',
  'store',
  'ceiling_worker',
  'bench',
];
const SIDES = [
  ['dev', 'dev server'],
  ['cluster', 'cluster'],
] as const;

/** The Temporal server's processes together: the dev server, or the cluster's services and their Postgres backends. */
const temporalShare = (cpu: Record<string, number>) =>
  Object.entries(cpu)
    .filter(([part]) => part.startsWith('temporal') || part === 'postgres_temporal')
    .reduce((sum, [, value]) => sum + value, 0);

/** The cluster suite: the same start rates and large replay on the dev server and on the cluster. */
function clusterLines(section: Section): string[] {
  const sides = SIDES.filter(([key]) => section[key]);
  const rateRows = (key: string) => (section[key]?.start_rates ?? []) as Row[];
  const rates = [...new Set(sides.flatMap(([key]) => rateRows(key).map((row) => row.rate as number)))];
  const at = (key: string, rate: number) => rateRows(key).find((row) => row.rate === rate);
  const lines = [
    '## The Temporal cluster against the dev server',
    '',
    `${stampOf(section)} Store: ${section.dev?.store ?? section.cluster?.store}. In one run, one after the other on this machine, each on a fresh stack: ${sides.map(([key, name]) => `the ${name} (${section[key].temporal}; ${section[key].seconds} s, other processes on the machine kept ${section[key].other_processes_cores} cores busy meanwhile)`).join(', then ')}. Open loop as in the capacity suite, 10-object replays; the large replay as in the throughput suite.`,
    '',
    ...sides.map(
      ([key, name]) =>
        `One client on the idle stack, ${name}: replay p50 ${section[key].idle.replay.p50_ms} ms, p99 ${section[key].idle.replay.p99_ms} ms; bare ceiling p50 ${section[key].idle.ceiling.p50_ms} ms, p99 ${section[key].idle.ceiling.p99_ms} ms.`,
    ),
    '',
    ...table(
      [
        'starts/s',
        ...sides.flatMap(([, name]) => [
          `${name}: replay p50 / p99 ms`,
          `${name}: errors`,
          `${name}: ceiling p50 / p99 ms`,
        ]),
      ],
      rates.map((rate) => [
        rate,
        ...sides.flatMap(([key]) => {
          const row = at(key, rate);
          return row
            ? [
                `${row.replay.p50_ms} / ${row.replay.p99_ms}`,
                errorsOf(row.replay),
                `${row.ceiling.p50_ms} / ${row.ceiling.p99_ms}`,
              ]
            : ['', '', ''];
        }),
      ]),
    ),
    '',
    `Start capacity (highest rate with p99 < 250 ms and no error): ${sides.map(([key, name]) => `${name} replay **${section[key].capacity.replay_starts_per_s}/s** (bare ceiling ${section[key].capacity.ceiling_starts_per_s}/s)`).join('; ')}.`,
    '',
    "CPU per replay start (ms of CPU time each process spent per answered start over the step and its drain, from /proc; `postgres_temporal`: the backends serving the cluster's databases):",
    '',
    ...table(
      ['starts/s', 'stack', 'Temporal with its Postgres', ...CLUSTER_CPU_PARTS, 'total'],
      rates.flatMap((rate) =>
        sides.flatMap(([key, name]) => {
          const cpu = at(key, rate)?.replay.cpu_ms_per_start as Record<string, number> | undefined;
          return cpu
            ? [
                [
                  rate,
                  name,
                  temporalShare(cpu),
                  ...CLUSTER_CPU_PARTS.map((part) => cpu[part] ?? 0),
                  cpu.total,
                ],
              ]
            : [];
        }),
      ),
    ),
    '',
  ];
  const idle = sides.filter(([key]) => section[key].idle_background);
  if (idle.length) {
    lines.push(
      `With nothing to do (${section[idle[0]![0]].idle_background.seconds} s of an idle stack after the start rates), CPU ms a second each process spent, and Postgres a second; a step's figures per start include this share:`,
      '',
      ...table(
        [
          'stack',
          ...CLUSTER_CPU_PARTS,
          'total',
          'write transactions/s',
          'WAL KB/s',
          'temporal db transactions/s',
        ],
        idle.map(([key, name]) => {
          const { cpu_ms_per_s: cpu, postgres_per_s: pg } = section[key].idle_background as Row;
          return [
            name,
            ...CLUSTER_CPU_PARTS.map((part) => cpu[part] ?? 0),
            cpu.total,
            pg.write_xacts,
            pg.wal_kb,
            pg.temporal_xacts ?? '',
          ];
        }),
      ),
      '',
    );
  }
  const counted = rates.filter((rate) => at('cluster', rate)?.replay.counters_per_start);
  if (counted.length) {
    lines.push(
      "What each start costs the stack's Postgres (per answered start; write transactions and WAL exact, each database's transactions from pg_stat_database, flushed up to 10 s late, so a step's share may move to the next):",
      '',
      ...table(
        [
          'starts/s',
          'stack',
          'path',
          'write transactions',
          'WAL KB',
          'service db transactions',
          'temporal db transactions',
          'temporal_visibility db transactions',
        ],
        counted.flatMap((rate) =>
          sides.flatMap(([key, name]) =>
            (['ceiling', 'replay'] as const).flatMap((path) => {
              const counters = at(key, rate)?.[path].counters_per_start as Record<string, number> | undefined;
              return counters
                ? [
                    [
                      rate,
                      name,
                      path,
                      counters.write_xacts,
                      counters.wal_kb,
                      counters.service_xacts,
                      counters.temporal_xacts ?? '',
                      counters.temporal_visibility_xacts ?? '',
                    ],
                  ]
                : [];
            }),
          ),
        ),
      ),
      '',
    );
  }
  const large = sides.filter(([key]) => section[key].throughput);
  if (large.length) {
    const cpuParts = CLUSTER_CPU_PARTS.filter((part) =>
      large.some(([key]) => section[key].throughput.replay_cpu_us_per_msg?.[part]),
    );
    lines.push(
      `One replay of ${section.objects.toLocaleString('en')} objects (the throughput suite's measurement, plain loop in the same stack):`,
      '',
      ...table(
        ['stack', ...THROUGHPUT_HEADER],
        large.map(([key, name]) => [name, ...throughputRow(section[key].throughput)]),
      ),
      '',
      'CPU per message of that replay (µs of CPU time per published message, from /proc, from the `POST` to its completion), and its Postgres per 1,000 messages:',
      '',
      ...table(
        ['stack', ...cpuParts, 'total', 'write transactions', 'WAL KB', 'temporal db transactions'],
        large.map(([key, name]) => {
          const { replay_cpu_us_per_msg: cpu = {}, postgres_per_1000_msgs: pg = {} } = section[key]
            .throughput as Row;
          return [
            name,
            ...cpuParts.map((part) => cpu[part] ?? 0),
            cpu.total,
            pg.write_xacts,
            pg.wal_kb,
            pg.temporal_xacts ?? '',
          ];
        }),
      ),
      '',
    );
  }
  return lines;
}

function capacityLines(section: Section): string[] {
  const lines = [
    '## Capacity: starts per second, recovery, bulk replays',
    '',
    `${stampOf(section)} Open loop: requests sent at a fixed rate for each step, each step drained before the next.`,
    '',
    ...(section.idle
      ? [
          `One client on the idle stack (${section.idle.replay.requests} requests, each after the previous answer): replay p50 ${section.idle.replay.p50_ms} ms, p99 ${section.idle.replay.p99_ms} ms; bare ceiling p50 ${section.idle.ceiling.p50_ms} ms, p99 ${section.idle.ceiling.p99_ms} ms.`,
          '',
        ]
      : []),
    ...table(
      [
        'starts/s',
        'ceiling p50 ms',
        'ceiling p99 ms',
        'ceiling errors',
        'replay p50 ms',
        'replay p99 ms',
        'replay errors',
        'replays completed',
      ],
      (section.start_rates as Row[]).map((row) => [
        row.rate,
        row.ceiling.p50_ms,
        row.ceiling.p99_ms,
        errorsOf(row.ceiling),
        row.replay.p50_ms,
        row.replay.p99_ms,
        errorsOf(row.replay),
        `${row.replay.completed} / ${row.replay.ok}`,
      ]),
    ),
    '',
    `Start capacity (highest rate with p99 < 250 ms and no error): replay **${section.capacity.replay_starts_per_s}/s**, bare ceiling **${section.capacity.ceiling_starts_per_s}/s**.`,
    '',
    ...cpuLines(section.start_rates as Row[]),
  ];
  const load = section.under_load as Row | undefined;
  if (load) {
    lines.push(
      `Beside a ${load.objects.toLocaleString('en')}-object replay: ${load.starts.requests} starts at ${load.starts.rates.join(', ')}/s, p50 ${load.starts.p50_ms} ms, p99 ${load.starts.p99_ms} ms, ${load.starts.errors} errors; the large replay ran at ${load.alone_msgs_per_s} msgs/s alone and ${load.loaded_msgs_per_s} msgs/s beside them (slowed ${(load.slowdown * 100).toFixed(1)}%).`,
      '',
    );
  }
  const recovery = section.recovery as Row | undefined;
  if (recovery) {
    lines.push(
      `Recovery: the only worker SIGKILLed at ${recovery.published_at_kill.toLocaleString('en')} of ${recovery.objects.toLocaleString('en')} published and started again at once; the next message ${recovery.seconds_to_next_message} s after the kill (heartbeat timeout ${recovery.heartbeat_timeout_seconds} s); ${recovery.messages} messages, ${recovery.distinct_messages} distinct.`,
      '',
    );
  }
  const bulk = section.bulk as Row | undefined;
  if (bulk) {
    lines.push(
      `Bulk replay of ${bulk.parents} parents (10 objects each, max_concurrent ${bulk.max_concurrent}): ${bulk.status} in ${bulk.seconds} s (${bulk.replays_per_s} replays/s), ${bulk.completed} completed, ${bulk.failed} failed; each child p50 ${bulk.child_p50_ms} ms, p99 ${bulk.child_p99_ms} ms; ${bulk.messages} messages, ${bulk.distinct_messages} distinct, of ${bulk.expected_messages}.`,
      '',
    );
  }
  if (section.replay_cost?.length) {
    lines.push(
      'What one replay costs the Temporal server (every run of its workflow):',
      '',
      ...table(
        ['objects', 'runs', 'history events', 'workflow tasks', 'activities', 'local activities'],
        (section.replay_cost as Row[]).map((row) => [
          row.objects,
          row.runs,
          row.events,
          row.workflow_tasks,
          row.activities,
          row.local_activities,
        ]),
      ),
      '',
    );
  }
  return lines;
}

/** Rewrites the generated tables at the top of RESULTS.md and keeps the hand-written notes below them. */
export async function writeResultsMarkdown(results: Record<string, any>, file: string): Promise<void> {
  const existing = await readFile(file, 'utf8').catch(() => '');
  const notes = existing.includes(NOTES_MARKER)
    ? existing.slice(existing.indexOf(NOTES_MARKER))
    : `${NOTES_MARKER}\n`;
  const lines = [
    '# Benchmark results',
    '',
    `Machine: ${results.machine}. Produced by \`npm run bench\`; the same figures are in \`bench/results.json\`.`,
    '',
    ...(results.throughput ? throughputLines(results.throughput) : []),
    ...(results.capacity ? capacityLines(results.capacity) : []),
    ...(results.cluster ? clusterLines(results.cluster) : []),
    ...(results.partitioned ? partitionedLines(results.partitioned) : []),
    ...(results.selection ? selectionLines(results.selection) : []),
    ...(results.selection_reshaped ? selectionLines(results.selection_reshaped) : []),
    ...transportLines(results.transports ?? {}),
  ];
  await writeFile(file, `${lines.join('\n')}\n${notes}`);
}

/** The broker transports' rows: replay into the broker against a plain produce loop into it. */
function transportLines(transports: Record<string, Section>): string[] {
  const kinds = Object.keys(transports).sort();
  if (kinds.length === 0) return [];
  return [
    '## Route transports',
    '',
    'Replay into a broker (`npm run bench -- --transport kafka|kafka-sasl|sqs`) against a plain produce loop into the same broker, same topic or queue, same client, in the same run (`kafka_sasl_ssl`: both over the SASL_SSL listener).',
    '',
    ...table(
      [
        'transport',
        'broker',
        'date',
        'commit',
        'objects',
        'replay s',
        'replay msgs/s',
        'produce loop s',
        'produce loop msgs/s',
        'ratio',
        'slice / gap ms',
      ],
      kinds.flatMap((kind) =>
        (transports[kind]!.runs as Row[]).map((run) => [
          kind,
          transports[kind]!.broker,
          String(transports[kind]!.date).slice(0, 10),
          `\`${transports[kind]!.commit}\``,
          run.objects,
          run.replay_seconds,
          run.replay_msgs_per_s,
          run.baseline_seconds,
          run.baseline_msgs_per_s,
          run.ratio,
          `${run.slice_ms_mean ?? ''} / ${run.slice_gap_ms_mean ?? ''}`,
        ]),
      ),
    ),
    '',
    ...kafkaSaslSslLines(transports.kafka_sasl_ssl),
  ];
}

const KAFKA_CPU_PARTS = ['worker', 'broker', 'bench', 'postgres', 'store', 'temporal', 'api'];

/** Kafka over SASL_SSL against the plain produce loop over it, and both over plaintext in the same run. */
function kafkaSaslSslLines(section: Section | undefined): string[] {
  if (!section) return [];
  const rows = (label: string, runs: Row[]) =>
    runs.flatMap((run) =>
      (['replay', 'baseline'] as const).map((step) => [
        label,
        run.objects,
        step === 'replay' ? 'replay' : 'produce loop',
        run[`${step}_msgs_per_s`],
        step === 'replay' ? run.ratio : '',
        ...KAFKA_CPU_PARTS.map((part) => (run[`${step}_cores`]?.[part] ?? 0).toFixed(2)),
        (run[`${step}_cores`]?.total ?? 0).toFixed(2),
      ]),
    );
  return [
    '### Kafka over SASL_SSL',
    '',
    `${stampOf(section)} Store: ${section.store}. ${section.broker}. The api and the workers started again for each listener; the plain produce loop in the bench process through the same adapter, built from the same settings.`,
    '',
    `Replay ${section.replay_msgs_per_s} msgs/s against a plain produce loop over the same SASL_SSL listener at ${section.produce_loop_msgs_per_s} msgs/s: **${section.ratio}** (target ≥ ${section.target}, ${section.target_met ? 'met' : '**missed**'}).`,
    '',
    'Both over each listener in the same run, with the cores each process kept busy (from /proc over the step; the loop runs in `bench`; 2 cores at most):',
    '',
    ...table(
      ['listener', 'objects', 'step', 'msgs/s', 'ratio', ...KAFKA_CPU_PARTS, 'total'],
      [
        ...rows('plaintext', (section.plaintext_runs ?? []) as Row[]),
        ...rows('SASL_SSL', section.runs as Row[]),
      ],
    ),
    '',
  ];
}

/** One large replay by partitions and worker processes, beside the store's and the queue's ceilings. */
function partitionedLines(section: Section): string[] {
  return [
    '## Partitioned replays',
    '',
    // its worker processes each poll both task queues, whatever --worker-roles says
    `Date: ${section.date}. Commit: \`${section.commit}\`. Each worker process polls both task queues. A latency in front of every S3 request (scripts/stack/latency-proxy.ts); each ceiling measured in the same run.`,
    '',
    ...table(
      [
        'objects',
        'list latency ms',
        'partitions',
        'workers',
        'replay msgs/s',
        'store list keys/s (one lister)',
        'store list keys/s (n listers at once)',
        'queue insert msgs/s',
        'of the lower ceiling',
        'publishing activities by worker',
        'max history events',
        'cores used: worker / postgres / store / temporal / bench (proxy) / total',
      ],
      (section.rows as Row[]).map((row) => [
        row.objects,
        row.list_latency_ms,
        row.partitions_used === undefined
          ? row.partitions
          : `${row.partitions} (${row.partitions_used} made)`,
        row.workers,
        row.replay_msgs_per_s,
        row.store_list_keys_per_s,
        row.store_list_keys_per_s_parallel === undefined
          ? ''
          : `${row.store_list_keys_per_s_parallel} (${row.parallel_listers})`,
        row.queue_insert_msgs_per_s,
        (row.replay_msgs_per_s / Math.min(row.store_list_keys_per_s, row.queue_insert_msgs_per_s)).toFixed(2),
        Object.values(row.activities_by_worker ?? {}).join(' / '),
        row.max_history_events,
        row.cores_used
          ? ['worker', 'postgres', 'store', 'temporal', 'bench', 'total']
              .map((part) => (row.cores_used[part] ?? 0).toFixed(2))
              .join(' / ')
          : '',
      ]),
    ),
    '',
  ];
}

const coresOf = (cores: Record<string, number> | undefined) =>
  cores
    ? ['worker', 'postgres', 'store', 'temporal', 'api', 'total']
        .map((part) => (cores[part] ?? 0).toFixed(2))
        .join(' / ')
    : '';

/** `select: missing_outputs` against a plain replay of the same stage, with both listings' rates. */
function selectionLines(section: Section): string[] {
  const met = (ok: boolean) => (ok ? 'met' : '**missed**');
  const plain = section.plain as Row;
  const missing = section.missing_outputs as Row;
  const partitions =
    section.max_partitions === 1 ? 'one partition' : `at most ${section.max_partitions} partitions`;
  const reshaped = section.list_latency_ms
    ? ` (${section.list_latency_ms} ms before every S3 request, ${partitions})`
    : section.worker_processes === 'one, both task queues'
      ? ` (${partitions})`
      : '';
  return [
    `## Selection: \`missing_outputs\` against a plain replay${reshaped}`,
    '',
    `${stampOf(section.worker_processes === 'one, both task queues' ? { ...section, worker_roles: 'together' } : section)} Store: ${section.store}. ${section.objects.toLocaleString('en')} inputs, ${section.inputs_with_outputs.toLocaleString('en')} of them with outputs (\`output_match: ${section.output_match}\`: ${section.output_keys.toLocaleString('en')} output keys, some with the input's extension, some another, some a folder per input, a few that answer nothing). Each replay on a fresh publish worker process; peak RSS from /proc (VmRSS every 200 ms and VmHWM).`,
    '',
    ...table(
      [
        'replay',
        's',
        'inputs examined/s',
        'msgs published',
        'msgs/s',
        'partitions',
        'publish worker RSS start / peak MB',
        'workflows worker peak MB',
        'cores: workers / postgres / store / temporal / api / total',
      ],
      [
        ['plain (select all)', plain, plain.msgs_per_s],
        ['missing_outputs', missing, missing.inputs_examined_per_s],
      ].map(([name, row, examined]) => [
        name,
        (row as Row).seconds,
        examined,
        (row as Row).published,
        (row as Row).msgs_per_s,
        (row as Row).partitions,
        `${(row as Row).worker_start_rss_mb} / ${(row as Row).worker_peak_rss_mb}`,
        (row as Row).workflows_worker_peak_rss_mb,
        coresOf((row as Row).cores_used),
      ]),
    ),
    '',
    `Examined/s ÷ plain msgs/s: **${section.examined_vs_plain}** (target ≥ ${section.examined_vs_plain_target}, ${met(section.examined_vs_plain >= section.examined_vs_plain_target)}). Peak RSS ÷ plain: **${section.rss_vs_plain}** (target ≤ ${section.rss_vs_plain_target}, ${met(section.rss_vs_plain <= section.rss_vs_plain_target)}). Published: ${missing.published.toLocaleString('en')} of ${missing.expected.toLocaleString('en')} expected; every published key read back from the queue: each an input without outputs, none twice.`,
    '',
    'Two listings against one (one lister, 1,000 keys a call, in the bench process):',
    '',
    ...table(
      [
        'input stage keys/s',
        'output stage keys/s',
        'input listing s',
        'both listings s',
        'the merge alone, inputs examined/s',
      ],
      [
        [
          section.input_list_keys_per_s,
          section.output_list_keys_per_s,
          section.listing_seconds_one,
          section.listing_seconds_two,
          section.merge_alone_inputs_per_s,
        ],
      ],
    ),
    '',
  ];
}
