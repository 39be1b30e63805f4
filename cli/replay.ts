/**
 * `npm run replay -- <command>`: the operator CLI of the api (README, "The operator CLI").
 * Every call goes through the typed client (cli/client.ts); errors print the api's `detail` and
 * exit 1; a bad command line exits 2.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  ApiFailure,
  call,
  createApiClient,
  resolveApiTarget,
  UsageError,
  type ApiClient,
  type ApiTarget,
  type Schemas,
} from './client.ts';
import { followBulkReplay, followReplay, formatDuration, printJson, type Output } from './follow.ts';
import { sleep } from '../adapters/sleep.ts';

const USAGE = `usage: npm run replay -- <command> [options]

commands:
  start <execution> --from-stage S --to-route R [request options] [--idempotency-key K] [--follow]
  preview <execution> --from-stage S --to-route R [request options] [--no-wait]
  status <execution> [--follow]
  replays <execution>
  pause <execution>
  resume <execution>
  cancel <execution>
  rate <execution> <messages-per-second | none>
  bulk start (--executions ID,TAG,... | --tag-prefix P [--status S,...] [--filter-config-id C]
             [--started-after T] [--started-before T]) --from-stage S --to-route R
             [request options] [--max-concurrent N] [--skip-parents-with-open-replays]
             [--pause-after-failed-children N]
             [--idempotency-key K] [--follow]
  bulk status <bulk replay> [--follow]
  bulk items <bulk replay>
  bulk pause <bulk replay>
  bulk resume <bulk replay>
  bulk cancel <bulk replay>

<execution> is an execution's UUID or tag.
request options: --source storage|lineage|manual (default storage), --from-path P, --tag T,
  --config-id C, --metadata JSON, --max-rate N (messages/s),
  --select all|missing_outputs (default all: missing_outputs publishes only the objects the parent has
  no output for in the target route's output stage), --modified-since T, --modified-before T (RFC 3339:
  only objects last modified in [since, before)), --reason TEXT (why, 1-500 characters: kept on the
  replay and sent with every message)
  --canary-messages N --canary-within S --canary-min-ratio R (publish N messages first, wait up to
  S seconds for outputs answering at least R of them, else pause; the three go together)
options: --json (one JSON object per line on stdout), --api-url URL, --api-key KEY,
  --interval MS (polling, default 1000), -h/--help
The api's address and key: --api-url/--api-key, else REPLAY_API_URL/REPLAY_API_KEY, else the dev
stack's .data/stack.json.`;

const OPTIONS = {
  json: { type: 'boolean' },
  'api-url': { type: 'string' },
  'api-key': { type: 'string' },
  interval: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  follow: { type: 'boolean' },
  'no-wait': { type: 'boolean' },
  source: { type: 'string' },
  'from-stage': { type: 'string' },
  'to-route': { type: 'string' },
  'from-path': { type: 'string' },
  tag: { type: 'string' },
  'config-id': { type: 'string' },
  metadata: { type: 'string' },
  'max-rate': { type: 'string' },
  select: { type: 'string' },
  'modified-since': { type: 'string' },
  'modified-before': { type: 'string' },
  'canary-messages': { type: 'string' },
  'canary-within': { type: 'string' },
  'canary-min-ratio': { type: 'string' },
  'idempotency-key': { type: 'string' },
  executions: { type: 'string' },
  'tag-prefix': { type: 'string' },
  status: { type: 'string' },
  'filter-config-id': { type: 'string' },
  'started-after': { type: 'string' },
  'started-before': { type: 'string' },
  'max-concurrent': { type: 'string' },
  reason: { type: 'string' },
  'skip-parents-with-open-replays': { type: 'boolean' },
  'pause-after-failed-children': { type: 'string' },
} satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parseCommandLine>['values'];

function parseCommandLine(args: string[]) {
  return parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
}

/** The replay request the options describe (what `start`, `preview` and `bulk start` send). */
type ReplayRequest = Schemas['ExecutionReplayRequest'];

function positiveInteger(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${name} must be a positive integer`);
  return value;
}

function replayRequest(values: Values): ReplayRequest {
  const fromStage = values['from-stage'];
  const toRoute = values['to-route'];
  if (!fromStage || !toRoute) throw new UsageError('--from-stage and --to-route are required');
  const source = values.source ?? 'storage';
  if (!['storage', 'lineage', 'manual'].includes(source))
    throw new UsageError('--source must be storage, lineage or manual');
  let metadata: Record<string, unknown> | undefined;
  if (values.metadata !== undefined) {
    try {
      metadata = JSON.parse(values.metadata);
    } catch (error) {
      throw new UsageError(`--metadata must be JSON: ${(error as Error).message}`);
    }
  }
  const request: ReplayRequest = {
    replay_source: source as ReplayRequest['replay_source'],
    from_stage: fromStage,
    to_route: toRoute,
  };
  if (values['from-path'] !== undefined) request.from_path = values['from-path'];
  if (values.tag !== undefined) request.tag = values.tag;
  if (values['config-id'] !== undefined) request.config_id = values['config-id'];
  if (metadata !== undefined) request.metadata = metadata;
  const rate = positiveInteger('max-rate', values['max-rate']);
  if (rate !== undefined) request.max_messages_per_second = rate;
  if (values.select !== undefined) {
    if (values.select !== 'all' && values.select !== 'missing_outputs')
      throw new UsageError('--select must be all or missing_outputs');
    request.select = values.select;
  }
  // the api checks the instants (RFC 3339, since before before) and answers what is wrong
  if (values['modified-since'] !== undefined) request.modified_since = values['modified-since'];
  if (values['modified-before'] !== undefined) request.modified_before = values['modified-before'];
  if (values.reason !== undefined) request.reason = values.reason;
  const canary = canaryOf(values);
  if (canary) request.canary = canary;
  return request;
}

/** The canary the three --canary-* options describe; the api checks the bounds. */
function canaryOf(values: Values): ReplayRequest['canary'] {
  const given = [values['canary-messages'], values['canary-within'], values['canary-min-ratio']];
  if (given.every((value) => value === undefined)) return undefined;
  if (given.some((value) => value === undefined))
    throw new UsageError('--canary-messages, --canary-within and --canary-min-ratio go together');
  const ratio = Number(values['canary-min-ratio']);
  if (!(ratio > 0 && ratio <= 1)) throw new UsageError('--canary-min-ratio must be above 0 and at most 1');
  return {
    messages: positiveInteger('canary-messages', values['canary-messages'])!,
    within_seconds: positiveInteger('canary-within', values['canary-within'])!,
    min_output_ratio: ratio,
  };
}

/** One line on what a replay selects besides from_path; undefined when it selects everything. */
function describeSelection(selection: Schemas['ReplaySelection'] | undefined): string | undefined {
  if (!selection) return undefined;
  const parts: string[] = [];
  if (selection.select === 'missing_outputs')
    parts.push(
      `only objects without an output in ${selection.output_stage ?? '-'} (${selection.output_match ?? 'stem'})`,
    );
  if (selection.modified_since !== null || selection.modified_before !== null)
    parts.push(`modified in [${selection.modified_since ?? '-'}, ${selection.modified_before ?? '-'})`);
  return parts.length > 0 ? `  selects ${parts.join(', ')}` : undefined;
}

function one(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected one ${what}`);
  return positionals[0]!;
}

function bytes(count: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

const number = (value: number) => value.toLocaleString('en-US');

function describeExecution(
  detail: Schemas['ExecutionDetail'] | Schemas['ExecutionResponse'] | Schemas['ReplayExecutionResponse'],
): string {
  const lines = [`${detail.id}${detail.tag ? ` (${detail.tag})` : ''}: ${detail.status}`];
  if ('progress' in detail) {
    const paused = detail.progress.paused ? `, paused (${detail.progress.paused_reason ?? 'operator'})` : '';
    const rate = detail.max_messages_per_second;
    lines.push(
      `  ${detail.from_stage ?? '-'} -> ${detail.to_route ?? '-'}, replay of ${detail.parent_execution_id ?? '-'} (${detail.replay_source ?? 'not a replay'})`,
      `  published ${number(detail.progress.published)}, listed ${number(detail.progress.listed)}${paused}${rate ? `, at most ${rate} messages/s` : ''}`,
    );
    if (detail.parent_execution_id)
      lines.push(
        `  requested by ${detail.requested_by ?? '(no API key: authentication off)'}${detail.reason ? `: ${detail.reason}` : ', no reason given'}`,
      );
    const canary = detail.progress.canary;
    if (canary)
      lines.push(
        `  canary ${canary.outcome}: ${number(canary.outputs_found)} of ${number(canary.published)} published messages answered (${canary.messages} messages, at least ${canary.min_output_ratio} within ${canary.within_seconds} s)`,
      );
    if (detail.error) lines.push(`  error: ${detail.error}`);
  }
  const selection = describeSelection('selection' in detail ? detail.selection : undefined);
  if (selection) lines.push(selection);
  return lines.join('\n');
}

function describePreview(preview: Schemas['ReplayPreview']): string {
  const lines = [
    `preview ${preview.status}${preview.id ? ` (job ${preview.id})` : ''}: replay of ${preview.execution_id} reads ${preview.source_execution_id} (${preview.replay_source})`,
    `  ${preview.from_stage} -> route ${preview.route.name} (${preview.route.input_stage} -> ${preview.route.output_stage ?? '-'}) of config ${preview.config.name} (${preview.config.id})`,
    `  ${number(preview.count)} messages, ${bytes(preview.bytes)} (listed ${number(preview.listed)} keys${preview.from_path ? ` under ${preview.from_path}` : ''})`,
    ...[describeSelection(preview.selection)].filter((line) => line !== undefined),
    `  first ${preview.first_key ?? '-'}`,
    `  last  ${preview.last_key ?? '-'}`,
    `  estimate ${formatDuration(preview.estimated_seconds)} at ${number(preview.rate.messages_per_second)} messages/s (${preview.rate.basis})`,
  ];
  if (preview.folders.length > 0) {
    lines.push('  folders:');
    for (const folder of preview.folders)
      lines.push(`    ${folder.folder || '(top level)'}  ${number(folder.count)}  ${bytes(folder.bytes)}`);
    if (preview.other_folders.folders > 0)
      lines.push(
        `    (${number(preview.other_folders.folders)} more)  ${number(preview.other_folders.count)}  ${bytes(preview.other_folders.bytes)}`,
      );
  }
  if (preview.sample.length > 0) lines.push('  sample:', ...preview.sample.map((key) => `    ${key}`));
  if (preview.error) lines.push(`  error: ${preview.error}`);
  return lines.join('\n');
}

function describeBulk(bulk: Schemas['BulkReplayResponse']): string {
  const paused =
    bulk.paused_reason === 'failed_children'
      ? `, paused (failed_children: ${bulk.failed_children} failed or interrupted)`
      : bulk.paused_reason
        ? `, paused (${bulk.paused_reason})`
        : '';
  const skipped = bulk.skipped ? `, skipped ${bulk.skipped}` : '';
  // who asked shows with a reason (the line without one reads as it always did)
  const asked = bulk.reason ? `; requested by ${bulk.requested_by ?? '-'}: ${bulk.reason}` : '';
  return `bulk replay ${bulk.id}: ${bulk.status}${paused}, ${bulk.total} parents: started ${bulk.started}, completed ${bulk.completed}, failed ${bulk.failed}, cancelled ${bulk.cancelled}${skipped}${asked}`;
}

/** One line of `replays`: id, status, when, who, counts, why. */
function describeReplayLine(replay: Schemas['ExecutionReplay']): string {
  const paused = replay.paused ? ' (paused)' : '';
  return `${replay.id}  ${replay.status}${paused}  ${replay.started_at}  ${replay.requested_by ?? '-'}  ${number(replay.published)}/${number(replay.listed)}  ${replay.reason ?? '-'}`;
}

/** The preview of a request, waiting for its job when it continues as one (unless `wait` is false). */
async function previewOf(
  client: ApiClient,
  target: ApiTarget,
  parent: string,
  request: ReplayRequest,
  options: { wait: boolean; intervalMs: number; onProgress?: (preview: Schemas['ReplayPreview']) => void },
): Promise<Schemas['ReplayPreview']> {
  let { data: preview } = await call(
    target,
    client.POST('/api/v1/executions/{execution_id}/replay/preview', {
      params: { path: { execution_id: parent } },
      body: request,
    }),
  );
  while (options.wait && preview.status === 'running' && preview.id) {
    options.onProgress?.(preview);
    await sleep(options.intervalMs);
    ({ data: preview } = await call(
      target,
      client.GET('/api/v1/replay-previews/{preview_id}', { params: { path: { preview_id: preview.id } } }),
    ));
  }
  return preview;
}

/** The total a followed replay publishes: its preview's count (the same request, without its tag). */
function totalOf(
  client: ApiClient,
  target: ApiTarget,
  detail: Schemas['ExecutionDetail'],
  intervalMs: number,
): Promise<number | undefined> {
  if (!detail.parent_execution_id || !detail.replay_source || !detail.from_stage || !detail.to_route)
    return Promise.resolve(undefined);
  const request: ReplayRequest = {
    replay_source: detail.replay_source,
    from_stage: detail.from_stage,
    to_route: detail.to_route,
    from_path: detail.from_path,
    config_id: detail.config_id,
    // the same selection: the total is what this replay publishes
    select: detail.selection.select,
    modified_since: detail.selection.modified_since,
    modified_before: detail.selection.modified_before,
  };
  return previewOf(client, target, detail.parent_execution_id, request, {
    wait: true,
    intervalMs: Math.max(intervalMs, 1000),
  }).then(
    (preview) => (preview.status === 'completed' ? preview.count : undefined),
    () => undefined,
  );
}

/** Exit code of a followed replay: 0 once completed, 1 when it failed or was cancelled. */
const exitCodeOf = (status: string) => (status === 'completed' ? 0 : 1);
/** ...and of a bulk replay: 0 when every child completed. */
const bulkExitCodeOf = (bulk: Schemas['BulkReplayResponse']) =>
  bulk.status === 'completed' && bulk.failed === 0 && bulk.cancelled === 0 ? 0 : 1;

/** Runs one command line; returns the exit code. */
export async function runCli(
  args: string[],
  output: Output = { json: false, stdout: process.stdout, stderr: process.stderr },
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseCommandLine(args));
  } catch (error) {
    output.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  output = { ...output, json: values.json === true };
  if (values.help || positionals.length === 0) {
    (values.help ? output.stdout : output.stderr).write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const [command, ...rest] = positionals as [string, ...string[]];
  const say = (human: string, data: unknown) =>
    output.json ? printJson(output, data) : output.stdout.write(`${human}\n`);

  try {
    const intervalMs = positiveInteger('interval', values.interval) ?? 1000;
    const target = await resolveApiTarget({ apiUrl: values['api-url'], apiKey: values['api-key'] }, env);
    const client = createApiClient(target);
    const executionPath = (id: string) => ({ params: { path: { execution_id: id } } });

    switch (command) {
      case 'start': {
        const parent = one(rest, 'execution (UUID or tag) to replay');
        const request = replayRequest(values);
        const key = values['idempotency-key'];
        const { data: started } = await call(
          target,
          client.POST('/api/v1/executions/{execution_id}/replay', {
            params: { path: { execution_id: parent }, header: key ? { 'idempotency-key': key } : {} },
            body: request,
          }),
        );
        say(
          `started replay ${started.id}${started.tag ? ` (${started.tag})` : ''} of ${parent}: ${started.status}`,
          started,
        );
        if (!values.follow) return 0;
        const { data: detail } = await call(
          target,
          client.GET('/api/v1/executions/{execution_id}', executionPath(started.id)),
        );
        const done = await followReplay(client, target, started.id, output, {
          intervalMs,
          total: totalOf(client, target, detail, intervalMs),
        });
        if (!output.json) output.stdout.write(`${describeExecution(done)}\n`);
        return exitCodeOf(done.status);
      }

      case 'preview': {
        const parent = one(rest, 'execution (UUID or tag) to preview a replay of');
        const preview = await previewOf(client, target, parent, replayRequest(values), {
          wait: !values['no-wait'],
          intervalMs,
          onProgress: (partial) =>
            output.json
              ? printJson(output, partial)
              : output.stderr.write(
                  `counting: ${number(partial.count)} so far (listed ${number(partial.listed)})\n`,
                ),
        });
        say(describePreview(preview), preview);
        return preview.status === 'failed' ? 1 : 0;
      }

      case 'status': {
        const id = one(rest, 'execution (UUID or tag)');
        const { data: detail } = await call(
          target,
          client.GET('/api/v1/executions/{execution_id}', executionPath(id)),
        );
        if (!values.follow) {
          say(describeExecution(detail), detail);
          return 0;
        }
        const finished = ['completed', 'failed', 'cancelled'].includes(detail.status);
        const done = await followReplay(client, target, detail.id, output, {
          intervalMs,
          total: finished ? undefined : totalOf(client, target, detail, intervalMs),
        });
        if (!output.json) output.stdout.write(`${describeExecution(done)}\n`);
        return exitCodeOf(done.status);
      }

      case 'replays': {
        const id = one(rest, 'execution (UUID or tag)');
        let cursor: string | undefined;
        do {
          const { data: page } = await call(
            target,
            client.GET('/api/v1/executions/{execution_id}/replays', {
              params: { path: { execution_id: id }, query: { limit: 200, ...(cursor ? { cursor } : {}) } },
            }),
          );
          for (const replay of page.items) say(describeReplayLine(replay), replay);
          cursor = page.next_cursor ?? undefined;
        } while (cursor !== undefined);
        return 0;
      }

      case 'resume':
      case 'cancel': {
        const id = one(rest, 'execution (UUID or tag)');
        const path =
          command === 'resume'
            ? '/api/v1/executions/{execution_id}/resume'
            : '/api/v1/executions/{execution_id}/cancel';
        const { data, status } = await call(target, client.POST(path, executionPath(id)));
        const pending = status === 202 ? ' (requested; the workflow has not applied it yet)' : '';
        say(`${command === 'resume' ? 'resumed' : 'cancel'}: ${describeExecution(data)}${pending}`, data);
        return 0;
      }

      case 'pause': {
        const id = one(rest, 'execution (UUID or tag)');
        const { data, status } = await call(
          target,
          client.POST('/api/v1/executions/{execution_id}/pause', executionPath(id)),
        );
        const pending = status === 202 ? ' (requested; the workflow has not applied it yet)' : '';
        say(`paused: ${describeExecution(data)}${pending}`, data);
        return 0;
      }

      case 'rate': {
        if (rest.length !== 2)
          throw new UsageError('expected an execution and a rate: rate <execution> <N|none>');
        const [id, text] = rest as [string, string];
        const rate = text === 'none' ? null : positiveInteger('rate', text);
        const { data } = await call(
          target,
          client.PATCH('/api/v1/executions/{execution_id}', {
            ...executionPath(id),
            body: { max_messages_per_second: rate ?? null },
          }),
        );
        say(
          `rate ${rate === null ? 'unlimited' : `at most ${rate} messages/s`}: ${describeExecution(data)}`,
          data,
        );
        return 0;
      }

      case 'bulk':
        return await runBulk(client, target, rest, values, output, say, intervalMs);

      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      output.stderr.write(`${error.message}\n${USAGE}\n`);
      return 2;
    }
    if (error instanceof ApiFailure) {
      if (output.json) printJson(output, { error: { status: error.status, ...(error.body as object) } });
      output.stderr.write(`error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

async function runBulk(
  client: ApiClient,
  target: ApiTarget,
  args: string[],
  values: Values,
  output: Output,
  say: (human: string, data: unknown) => void,
  intervalMs: number,
): Promise<number> {
  const [action, ...rest] = args;
  const bulkPath = (id: string) => ({ params: { path: { bulk_replay_id: id } } });
  switch (action) {
    case 'start': {
      if (rest.length > 0) throw new UsageError('bulk start takes no positional argument');
      const { tag: _tag, ...replay } = replayRequest(values);
      if (values.tag !== undefined)
        throw new UsageError('a bulk replay takes no --tag (a tag names one execution)');
      const listed = values.executions
        ?.split(',')
        .map((item) => item.trim())
        .filter(Boolean);
      const filter = {
        ...(values['tag-prefix'] ? { tag_prefix: values['tag-prefix'] } : {}),
        ...(values.status
          ? { status: values.status.split(',') as Schemas['ExecutionDetail']['status'][] }
          : {}),
        ...(values['filter-config-id'] ? { config_id: values['filter-config-id'] } : {}),
        ...(values['started-after'] ? { started_after: values['started-after'] } : {}),
        ...(values['started-before'] ? { started_before: values['started-before'] } : {}),
      };
      if (!listed === (Object.keys(filter).length === 0))
        throw new UsageError(
          'bulk start takes either --executions or filter options (--tag-prefix, --status, ...)',
        );
      const maxConcurrent = positiveInteger('max-concurrent', values['max-concurrent']);
      const pauseAfter = positiveInteger(
        'pause-after-failed-children',
        values['pause-after-failed-children'],
      );
      const key = values['idempotency-key'];
      const { data: bulk } = await call(
        target,
        client.POST('/api/v1/bulk-replays', {
          params: { header: key ? { 'idempotency-key': key } : {} },
          body: {
            replay,
            ...(listed ? { execution_ids: listed } : { filter }),
            ...(maxConcurrent ? { max_concurrent: maxConcurrent } : {}),
            ...(values['skip-parents-with-open-replays'] ? { skip_parents_with_open_replays: true } : {}),
            ...(pauseAfter ? { pause_after_failed_children: pauseAfter } : {}),
          },
        }),
      );
      say(`started ${describeBulk(bulk)}`, bulk);
      if (!values.follow) return 0;
      const done = await followBulkReplay(client, target, bulk.id, output, { intervalMs });
      if (!output.json) output.stdout.write(`${describeBulk(done)}\n`);
      return bulkExitCodeOf(done);
    }
    case 'status': {
      const id = one(rest, 'bulk replay id');
      if (values.follow) {
        const done = await followBulkReplay(client, target, id, output, { intervalMs });
        if (!output.json) output.stdout.write(`${describeBulk(done)}\n`);
        return bulkExitCodeOf(done);
      }
      const { data } = await call(target, client.GET('/api/v1/bulk-replays/{bulk_replay_id}', bulkPath(id)));
      say(describeBulk(data), data);
      return 0;
    }
    case 'items': {
      const id = one(rest, 'bulk replay id');
      let cursor: number | undefined;
      do {
        const { data: page } = await call(
          target,
          client.GET('/api/v1/bulk-replays/{bulk_replay_id}/items', {
            params: {
              path: { bulk_replay_id: id },
              query: { limit: 200, ...(cursor === undefined ? {} : { cursor }) },
            },
          }),
        );
        for (const item of page.items) {
          say(
            `${item.position}  ${item.parent}  ${item.status}${item.execution_id ? `  ${item.execution_id}` : ''}${item.open_replay_id ? `  open replay ${item.open_replay_id}` : ''}${item.error ? `  ${item.error_code}: ${item.error}` : ''}`,
            item,
          );
        }
        cursor = page.next_cursor ?? undefined;
      } while (cursor !== undefined);
      return 0;
    }
    case 'pause':
    case 'cancel':
    case 'resume': {
      const id = one(rest, 'bulk replay id');
      const path = {
        pause: '/api/v1/bulk-replays/{bulk_replay_id}/pause',
        cancel: '/api/v1/bulk-replays/{bulk_replay_id}/cancel',
        resume: '/api/v1/bulk-replays/{bulk_replay_id}/resume',
      } as const;
      const { data, status } = await call(target, client.POST(path[action], bulkPath(id)));
      const pending = status === 202 ? ' (requested; not applied yet)' : '';
      const done = { pause: 'paused', cancel: 'cancel', resume: 'resumed' }[action];
      say(`${done}: ${describeBulk(data)}${pending}`, data);
      return 0;
    }
    default:
      throw new UsageError(
        `unknown bulk command '${action ?? ''}' (start, status, items, pause, resume, cancel)`,
      );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await runCli(process.argv.slice(2));
}
