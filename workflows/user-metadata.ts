/**
 * What the Temporal UI and `temporal workflow describe` show of a replay or a bulk replay before
 * anything runs: a one-line static summary and Markdown static details (the request, the config,
 * the limits). Pure and deterministic: the api sets them when it starts a workflow, and the bulk
 * replay workflow when it starts its children.
 */
import type { BulkReplayFields, NewBulkReplay, RouteDescription } from './bulk-replay.contract.ts';
import type { NewReplay, ReplaySettings } from './replay-execution.contract.ts';

/** The UI shows the summary on one line; longer is cut. */
const MAX_SUMMARY_LENGTH = 200;
/** The request's JSON in the details (metadata may be up to 16 KB); longer is cut. */
const MAX_REQUEST_JSON_LENGTH = 4000;

export interface UserMetadata {
  staticSummary: string;
  staticDetails: string;
}

/** What the details tell beyond the new execution: the parent as the caller named it, config, route. */
export interface ReplayDescription {
  /** The parent as the request named it (a tag or a UUID). */
  parent_ref: string;
  /** The request's fields as given (for a bulk replay's child, the bulk replay's). */
  request: object;
  config: { id: string; name: string };
  route: RouteDescription;
  bulk_replay_id?: string;
}

function cut(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

/** Inline code that stays inline whatever the text holds. */
function code(text: string): string {
  return `\`${text.replaceAll('`', "'").replaceAll('\n', ' ')}\``;
}

function jsonBlock(value: unknown): string {
  return ['```json', cut(JSON.stringify(value, null, 2), MAX_REQUEST_JSON_LENGTH), '```'].join('\n');
}

function table(rows: [string, string][]): string {
  return ['| | |', '| --- | --- |', ...rows.map(([name, value]) => `| ${name} | ${value} |`)].join('\n');
}

/** The rate limits that apply to a replay, in words. */
function limitsOf(requested: number | null | undefined, route: RouteDescription): string {
  const limits = [
    requested ? `${requested} messages/s (request)` : undefined,
    route.max_messages_per_second ? `${route.max_messages_per_second} messages/s (route)` : undefined,
  ].filter(Boolean);
  return limits.length > 0 ? limits.join(', ') : 'none';
}

/** A replay's canary in words (its progress is in the current details). */
function canaryOf(replay: NewReplay): string {
  const canary = replay.canary;
  if (!canary) return 'none';
  return `first ${canary.messages} messages, then wait up to ${canary.within_seconds} s for outputs answering at least ${canary.min_output_ratio} of them (else pause)`;
}

function settingsRows(settings: ReplaySettings): [string, string][] {
  return [
    ['page size', `${settings.pageSize} keys`],
    ['pages per run', `${settings.pagesPerRun} (then continue-as-new)`],
    [
      'publishing slice',
      `${settings.sliceSeconds} s, heartbeat timeout ${settings.heartbeatTimeoutSeconds} s`,
    ],
    ['step attempts', `${settings.stepMaxAttempts} (then \`interrupted\`)`],
    ['publish task queue', code(settings.publishTaskQueue)],
  ];
}

/** Who asked and why, as the summary's tail: ` by ops-key: new embedding model` (only with a reason). */
function provenanceTail(provenance: { reason?: string | null; requested_by?: string | null }): string {
  if (!provenance.reason) return '';
  const by = provenance.requested_by ? ` by ${provenance.requested_by}` : '';
  return `${by}: ${provenance.reason.replaceAll('\n', ' ')}`;
}

/** Rows of the details for who asked and why, when known (replays started before they were, have none). */
function provenanceRows(provenance: {
  reason?: string | null;
  requested_by?: string | null;
}): [string, string][] {
  const rows: [string, string][] = [];
  if (provenance.requested_by) rows.push(['requested by', code(provenance.requested_by)]);
  if (provenance.reason) rows.push(['reason', code(provenance.reason)]);
  return rows;
}

/**
 * `replay of nightly-2024-11-30: markdown_segmented -> embedding_generator (storage, docs/2024/)`,
 * and with a reason ` by ops-key: new embedding model`.
 */
export function replaySummary(replay: NewReplay, parentRef: string): string {
  const scope = [replay.replay_source, replay.from_path].filter(Boolean).join(', ');
  const tag = replay.tag ? ` [${replay.tag}]` : '';
  return cut(
    `replay of ${parentRef}: ${replay.from_stage} -> ${replay.to_route} (${scope})${tag}${provenanceTail(replay)}`,
    MAX_SUMMARY_LENGTH,
  );
}

export function replayUserMetadata(
  replay: NewReplay,
  description: ReplayDescription,
  settings: ReplaySettings,
): UserMetadata {
  const requested = replay.max_messages_per_second;
  const parent =
    description.parent_ref === replay.parent_execution_id
      ? code(replay.parent_execution_id)
      : `${code(description.parent_ref)} (${code(replay.parent_execution_id)})`;
  const rows: [string, string][] = [
    ['execution', `${code(replay.id)}${replay.tag ? ` tag ${code(replay.tag)}` : ''}`],
    ['parent', parent],
    ['root', code(replay.root_execution_id)],
    [
      'source',
      `${code(replay.replay_source)}${replay.from_path ? `, from_path ${code(replay.from_path)}` : ''}`,
    ],
    ['from stage -> to route', `${code(replay.from_stage)} -> ${code(replay.to_route)}`],
    ['config', `${code(description.config.name)} (${code(description.config.id)})`],
    ...(description.bulk_replay_id
      ? ([['bulk replay', code(description.bulk_replay_id)]] as [string, string][])
      : []),
    ...provenanceRows(replay),
  ];
  const details = [
    `### Replay of ${code(description.parent_ref)}`,
    table(rows),
    '#### Request',
    jsonBlock(description.request),
    '#### Route (from the target config)',
    jsonBlock(description.route),
    '#### Limits',
    table([
      ['rate limit', limitsOf(requested, description.route)],
      ['canary', canaryOf(replay)],
      ...settingsRows(settings),
    ]),
  ];
  return {
    staticSummary: replaySummary(replay, description.parent_ref),
    staticDetails: details.join('\n\n'),
  };
}

function parentsOf(bulk: Pick<NewBulkReplay, 'execution_ids' | 'filter'>): string {
  if (bulk.execution_ids) return `${bulk.execution_ids.length} listed executions`;
  const filter = Object.entries(bulk.filter ?? {})
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([name, value]) => `${name}=${Array.isArray(value) ? value.join('|') : String(value)}`);
  return `executions with ${filter.join(', ') || 'any field'}`;
}

export function bulkReplayUserMetadata(bulk: NewBulkReplay, settings: ReplaySettings): UserMetadata {
  const replay: BulkReplayFields = bulk.replay;
  const scope = [replay.replay_source, replay.from_path].filter(Boolean).join(', ');
  const provenance = { reason: replay.reason, requested_by: bulk.requested_by };
  const summary = `bulk replay of ${parentsOf(bulk)}: ${replay.from_stage} -> ${replay.to_route} (${scope}), ${bulk.max_concurrent} at once${provenanceTail(provenance)}`;
  const requested = replay.max_messages_per_second;
  const details = [
    `### Bulk replay ${code(bulk.id)}`,
    table([
      ['parents', parentsOf(bulk)],
      ['from stage -> to route', `${code(replay.from_stage)} -> ${code(replay.to_route)}`],
      ['source', code(replay.replay_source)],
      ['config', replay.config_id ? code(replay.config_id) : "each parent's own"],
      ['children at once', String(bulk.max_concurrent)],
      ...(bulk.skip_parents_with_open_replays
        ? ([['parents with an open replay into the route', 'skipped']] as [string, string][])
        : []),
      ...provenanceRows(provenance),
    ]),
    'Its counts (started, completed, failed, cancelled) are on `GET /api/v1/bulk-replays/<id>`; each child is a `replayExecution` workflow with the search attribute `BulkReplayId`.',
    '#### Request',
    jsonBlock({
      replay,
      ...(bulk.execution_ids ? { execution_ids: bulk.execution_ids } : { filter: bulk.filter }),
      max_concurrent: bulk.max_concurrent,
    }),
    '#### Limits (each child)',
    table([
      [
        'rate limit',
        requested ? `${requested} messages/s (request), and the route's` : "the route's, if any",
      ],
      ...settingsRows(settings),
    ]),
  ];
  return { staticSummary: cut(summary, MAX_SUMMARY_LENGTH), staticDetails: details.join('\n\n') };
}
