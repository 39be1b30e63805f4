/**
 * Every command of the README's Operators section, run as written there (only the placeholders, the
 * address and, for set-up, the namespace substituted) with the real `temporal` binary against the test
 * server, on real replays: completed ones, a replay of a replay, and replays that wait `interrupted`
 * because their bucket does not exist. Each command's output or effect is checked; the last test checks
 * that no README command was left out.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { getExecution, type ExecutionRecord } from '../adapters/executions.ts';
import { searchAttributeNames } from '../workflows/search-attributes.ts';
import { reconcilerScheduleId } from '../adapters/reconciler-schedule.ts';
import { replayWorkflowId } from '../workflows/definitions.ts';
import {
  createExecution,
  registerConfig,
  requestJson,
  seedOutputs,
  waitForExecution,
} from './support/fixtures.ts';
import { createTestStack, type TestStack } from './support/test-stack.ts';

const execFileAsync = promisify(execFile);
const README_ADDRESS = 'localhost:7233';
const README_NAMESPACE = 'default';
const OBJECTS = 30;

// ---------------------------------------------------------------------------------------------------
// The README's commands and how they are run

async function readmeCommands(): Promise<string[]> {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('\n## Operators\n');
  expect(start, 'README has an "## Operators" section').toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  const commands: string[] = [];
  for (const block of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of block[1]!.split('\n')) {
      const command = line.trim();
      if (command && !command.startsWith('#')) commands.push(command);
    }
  }
  return commands;
}

/** Splits a command line like a POSIX shell does for plain words and '…' / "…" quoting. */
function shellWords(command: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: '"' | "'" | null = null;
  for (const char of command) {
    if (quote) {
      if (char === quote) quote = null;
      else word += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      word ??= '';
    } else if (/\s/.test(char)) {
      if (word !== null) words.push(word);
      word = null;
    } else {
      word = (word ?? '') + char;
    }
  }
  if (quote) throw new Error(`unbalanced quote in: ${command}`);
  if (word !== null) words.push(word);
  return words;
}

let commands: string[];
const covered = new Set<string>();

/**
 * Runs one README command: `template` must be a line of the section, verbatim. Placeholders
 * (`<execution id>`…) take `values`; `--address`/TEMPORAL_ADDRESS point at the test server; `namespace`
 * replaces the README's for set-up commands run on a fresh namespace.
 */
async function run(
  template: string,
  values: Record<string, string> = {},
  options: { namespace?: string; json?: boolean } = {},
): Promise<string> {
  expect(commands, 'the command is in the README as written').toContain(template);
  covered.add(template);
  let command = template;
  for (const [name, value] of Object.entries(values)) command = command.replaceAll(`<${name}>`, value);
  expect(command, 'every placeholder has a value').not.toMatch(/<[a-z ]+>/);
  const words = shellWords(command);
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.TEMPORAL_ADDRESS;
  delete env.TEMPORAL_NAMESPACE;
  while (/^[A-Z_]+=/.test(words[0] ?? '')) {
    const [name, ...rest] = words.shift()!.split('=');
    env[name!] = rest.join('=');
  }
  const address = inject('stack').temporalAddress;
  const namespace = options.namespace ?? README_NAMESPACE;
  if (env.TEMPORAL_ADDRESS === README_ADDRESS) env.TEMPORAL_ADDRESS = address;
  if (env.TEMPORAL_NAMESPACE === README_NAMESPACE) env.TEMPORAL_NAMESPACE = namespace;
  for (let index = 0; index < words.length - 1; index += 1) {
    if (words[index] === '--address' && words[index + 1] === README_ADDRESS) words[index + 1] = address;
    if (words[index] === '--namespace' && words[index + 1] === README_NAMESPACE) words[index + 1] = namespace;
  }
  const [program, ...args] = words;
  const binary = program === 'temporal' ? inject('stack').temporalCli : program!;
  // `-o json` after the README's words, as an operator would add it
  if (options.json) args.push('-o', 'json');
  try {
    const { stdout } = await execFileAsync(binary, args, {
      env,
      timeout: 60_000,
      maxBuffer: 32 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const failed = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`${command}\n${failed.message}\n${failed.stdout ?? ''}${failed.stderr ?? ''}`);
  }
}

/** The same with `-o json`, parsed. */
async function runJson<T = any>(
  template: string,
  values: Record<string, string> = {},
  options: { namespace?: string } = {},
): Promise<T> {
  return JSON.parse(await run(template, values, { ...options, json: true })) as T;
}

/** A `temporal` command that is not one of the README's (set-up and checks of the test itself). */
async function cli(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(
    inject('stack').temporalCli,
    [...args, '--address', inject('stack').temporalAddress],
    { timeout: 30_000, maxBuffer: 32 * 1024 * 1024 },
  );
  return stdout;
}

/** Retries until `check` passes: visibility (list, count, schedules) is eventually consistent. */
async function eventually<T>(check: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
}

interface ListedExecution {
  execution: { workflowId: string; runId: string };
  status: string;
  searchAttributes?: { indexedFields?: Record<string, { data: string }> };
}

function searchAttribute(execution: ListedExecution, name: string): unknown {
  const field = execution.searchAttributes?.indexedFields?.[name];
  return field ? JSON.parse(Buffer.from(field.data, 'base64').toString('utf8')) : undefined;
}

const workflowIds = (executions: ListedExecution[]) => executions.map((item) => item.execution.workflowId);

// The README's commands, verbatim
const AT = '--address localhost:7233 --namespace default';
const INTERRUPTED_RUNNING = `"ReplayStatus='interrupted' AND ExecutionStatus='Running'"`;
const BATCH_QUERY = `"ReplayStatus='interrupted' AND ExecutionStatus='Running' AND ParentExecutionId='<parent id>'"`;
const SCHEDULE = '--schedule-id replay-reconciler-<task queue>';
const readme = {
  setup: 'TEMPORAL_ADDRESS=localhost:7233 TEMPORAL_NAMESPACE=default npm run temporal:setup',
  attributesList: `temporal operator search-attribute list ${AT}`,
  attributesCreate: `temporal operator search-attribute create ${AT} --name ExecutionId --type Keyword --name ParentExecutionId --type Keyword --name RootExecutionId --type Keyword --name ConfigId --type Keyword --name ReplaySource --type Keyword --name ReplayStatus --type Keyword --name ExecutionTag --type Keyword --name FromStage --type Keyword --name ToRoute --type Keyword --name BulkReplayId --type Keyword`,
  listInterrupted: `temporal workflow list ${AT} --query "ReplayStatus='interrupted'"`,
  listInterruptedRunning: `temporal workflow list ${AT} --query ${INTERRUPTED_RUNNING}`,
  countInterruptedRunning: `temporal workflow count ${AT} --query ${INTERRUPTED_RUNNING}`,
  listClosedOutside: `temporal workflow list ${AT} --query "ReplayStatus IN ('running', 'interrupted') AND ExecutionStatus IN ('Terminated', 'TimedOut')"`,
  describe: `temporal workflow describe ${AT} --workflow-id replay-<execution id>`,
  listByExecutionId: `temporal workflow list ${AT} --query "ExecutionId='<execution id>'"`,
  listByTag: `temporal workflow list ${AT} --query "ExecutionTag='<tag>'"`,
  listByParent: `temporal workflow list ${AT} --query "ParentExecutionId='<parent id>'"`,
  listByRoot: `temporal workflow list ${AT} --query "RootExecutionId='<root id>'"`,
  progress: `temporal workflow query ${AT} --workflow-id replay-<execution id> --type progress`,
  history: `temporal workflow show ${AT} --workflow-id replay-<execution id>`,
  resume: `temporal workflow signal ${AT} --workflow-id replay-<execution id> --name resume`,
  cancelSignal: `temporal workflow signal ${AT} --workflow-id replay-<execution id> --name cancel --input '"stopped by the on-call"'`,
  cancel: `temporal workflow cancel ${AT} --workflow-id replay-<execution id>`,
  batchResume: `temporal workflow signal ${AT} --query ${BATCH_QUERY} --name resume --reason "storage is back" --yes`,
  batchCancel: `temporal workflow cancel ${AT} --query ${BATCH_QUERY} --reason "replaced by a new replay" --yes`,
  scheduleList: `temporal schedule list ${AT}`,
  scheduleDescribe: `temporal schedule describe ${AT} ${SCHEDULE}`,
  scheduleTrigger: `temporal schedule trigger ${AT} ${SCHEDULE}`,
  schedulePause: `temporal schedule toggle ${AT} ${SCHEDULE} --pause --reason "maintenance"`,
  scheduleUnpause: `temporal schedule toggle ${AT} ${SCHEDULE} --unpause --reason "maintenance over"`,
  listWithoutReconciler: `temporal workflow list ${AT} --query "WorkflowType != 'reconcileReplays'"`,
};

// ---------------------------------------------------------------------------------------------------
// Real replays: a completed one, a replay of it, and interrupted ones (their bucket does not exist)

let stack: TestStack;
let broken: TestStack;
const suffix = randomBytes(4).toString('hex');
const tag = `ops-${suffix}`;
const correlationId = `operators-${suffix}`;
let parentId: string;
let replayA: string;
let replayB: string;
/** interrupted replays: 1 and 2 of brokenParents[0], 3 and 4 of brokenParents[1], 5 of brokenParents[2] */
const interrupted: string[] = [];
const brokenParents: string[] = [];

async function startReplay(
  on: TestStack,
  parent: string,
  body: object = {},
  headers: Record<string, string> = {},
) {
  const response = await requestJson(
    on,
    'POST',
    `/api/v1/executions/${parent}/replay`,
    { replay_source: 'storage', from_stage: 'markdown_segmented', to_route: 'embedding_generator', ...body },
    headers,
  );
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.id as string;
}

const record = async (on: TestStack, id: string) => (await getExecution(on.pool, id)) as ExecutionRecord;

async function describeStatus(executionId: string): Promise<string> {
  const description = JSON.parse(
    await cli('workflow', 'describe', '-w', replayWorkflowId(executionId), '-o', 'json'),
  );
  return description.workflowExecutionInfo.status;
}

async function historyEvents(executionId: string): Promise<any[]> {
  return (await runJson<{ events: any[] }>(readme.history, { 'execution id': executionId })).events;
}

const scheduledActivities = (events: any[], type: string) =>
  events.filter(
    (event) =>
      event.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED' &&
      event.activityTaskScheduledEventAttributes.activityType.name === type,
  ).length;

const signals = (events: any[], name: string) =>
  events.filter(
    (event) =>
      event.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED' &&
      event.workflowExecutionSignaledEventAttributes.signalName === name,
  ).length;

beforeAll(async () => {
  commands = await readmeCommands();
  [stack, broken] = await Promise.all([
    // the one test stack whose worker creates the reconciler's schedule: its commands are tested here
    createTestStack({ REPLAY_PAGE_SIZE: '10', RECONCILER_SCHEDULE: 'true' }),
    createTestStack({ S3_BUCKET: 'no-such-bucket-xyz', REPLAY_STEP_MAX_ATTEMPTS: '1' }),
  ]);
  await Promise.all([stack.startWorker(), broken.startWorker()]);

  const configId = (await registerConfig(stack)).id;
  parentId = (await createExecution(stack, configId)).id;
  await seedOutputs(stack, parentId, 'markdown_segmented', OBJECTS);
  replayA = await startReplay(stack, parentId, { tag }, { 'X-Correlation-ID': correlationId });
  await waitForExecution(stack, replayA, (item) => item.status === 'completed');
  // a replay of the replay: `lineage` reads the nearest ancestor with outputs (the parent)
  replayB = await startReplay(stack, replayA, { replay_source: 'lineage' });
  await waitForExecution(stack, replayB, (item) => item.status === 'completed');

  const brokenConfig = (await registerConfig(broken)).id;
  for (let index = 0; index < 3; index += 1)
    brokenParents.push((await createExecution(broken, brokenConfig)).id);
  for (const parent of [
    brokenParents[0]!,
    brokenParents[0]!,
    brokenParents[1]!,
    brokenParents[1]!,
    brokenParents[2]!,
  ]) {
    interrupted.push(await startReplay(broken, parent));
  }
  await Promise.all(
    interrupted.map((id) => waitForExecution(broken, id, (item) => item.status === 'interrupted')),
  );
});

afterAll(async () => {
  await Promise.allSettled([stack?.close(), broken?.close()]);
});

describe('search attributes', () => {
  it('npm run temporal:setup registers them on a fresh namespace, and again changes nothing', async () => {
    const namespace = `ops-setup-${suffix}`;
    await cli('operator', 'namespace', 'create', '--namespace', namespace);
    const first = await run(readme.setup, {}, { namespace });
    expect(first).toContain(`namespace ${namespace}: ${searchAttributeNames.length} added, 0 already there`);
    const again = await run(readme.setup, {}, { namespace });
    expect(again).toContain(`namespace ${namespace}: 0 added, ${searchAttributeNames.length} already there`);
    // the test server's own namespace has them from its start
    expect(await run(readme.setup)).toContain(
      `namespace default: 0 added, ${searchAttributeNames.length} already there`,
    );

    const listed = await runJson(readme.attributesList, {}, { namespace });
    expect(listed.customAttributes).toEqual(
      Object.fromEntries(searchAttributeNames.map((name) => [name, 'INDEXED_VALUE_TYPE_KEYWORD'])),
    );
    expect(await run(readme.attributesList)).toContain('ReplayStatus');
  });

  it('the CLI alone creates them too, and accepts them again', async () => {
    const namespace = `ops-cli-${suffix}`;
    await cli('operator', 'namespace', 'create', '--namespace', namespace);
    await run(readme.attributesCreate, {}, { namespace });
    const listed = await runJson(readme.attributesList, {}, { namespace });
    expect(Object.keys(listed.customAttributes).sort()).toEqual([...searchAttributeNames].sort());
    await run(readme.attributesCreate, {}, { namespace });
  });
});

describe('finding replays', () => {
  it('lists and counts the interrupted replays', async () => {
    const expected = interrupted.map(replayWorkflowId);
    await eventually(async () => {
      const all = await runJson<ListedExecution[]>(readme.listInterrupted);
      expect(workflowIds(all)).toEqual(expect.arrayContaining(expected));
      const waiting = await runJson<ListedExecution[]>(readme.listInterruptedRunning);
      expect(workflowIds(waiting)).toEqual(expect.arrayContaining(expected));
      for (const item of waiting) expect(searchAttribute(item, 'ReplayStatus')).toBe('interrupted');
      expect(workflowIds(waiting)).not.toContain(replayWorkflowId(replayA));
    });
    const text = await run(readme.listInterruptedRunning);
    expect(text).toContain(replayWorkflowId(interrupted[0]!));
    const counted = await runJson<{ count: string }>(readme.countInterruptedRunning);
    expect(Number(counted.count)).toBeGreaterThanOrEqual(interrupted.length);
    expect(await run(readme.countInterruptedRunning)).toMatch(/^Total: \d+/m);
  });

  it('finds the workflow of an execution by id and by tag, with the request that started it', async () => {
    const text = await run(readme.describe, { 'execution id': replayA });
    expect(text).toContain(replayWorkflowId(replayA));
    expect(text).toContain('ParentExecutionId');
    expect(text).toContain(parentId);
    const described = await runJson(readme.describe, { 'execution id': replayA });
    expect(described.workflowExecutionInfo.status).toBe('WORKFLOW_EXECUTION_STATUS_COMPLETED');
    expect(described.workflowExecutionInfo.memo.fields.correlation_id).toBe(correlationId);
    // the static summary and details the Temporal UI shows (its User Metadata)
    const { summary, details } = described.executionConfig.userMetadata;
    expect(summary).toBe(
      `replay of ${parentId}: markdown_segmented -> embedding_generator (storage) [${tag}]`,
    );
    expect(details).toContain(`### Replay of \`${parentId}\``);
    expect(details).toContain('| from stage -> to route | `markdown_segmented` -> `embedding_generator` |');
    expect(details).toContain('| config | `documents`');
    for (const heading of ['#### Request', '#### Route (from the target config)', '#### Limits'])
      expect(details).toContain(heading);
    expect(details).toContain('"output_stage": "embeddings"');
    expect(details).toContain('| page size | 10 keys |');
    expect(text).toContain(`StaticSummary  "${summary}"`);
    expect(text).toContain('StaticDetails  "### Replay of');

    await eventually(async () => {
      const byId = await runJson<ListedExecution[]>(readme.listByExecutionId, { 'execution id': replayA });
      expect(workflowIds(byId)).toEqual([replayWorkflowId(replayA)]);
      expect(searchAttribute(byId[0]!, 'ReplayStatus')).toBe('completed');
      const byTag = await runJson<ListedExecution[]>(readme.listByTag, { tag });
      expect(workflowIds(byTag)).toEqual([replayWorkflowId(replayA)]);
    });
    expect(await run(readme.listByExecutionId, { 'execution id': replayA })).toContain(
      replayWorkflowId(replayA),
    );
  });

  it('shows the lineage: the replays of a parent, the tree under a root', async () => {
    await eventually(async () => {
      const ofParent = await runJson<ListedExecution[]>(readme.listByParent, { 'parent id': parentId });
      expect(workflowIds(ofParent)).toEqual([replayWorkflowId(replayA)]);
      const ofReplay = await runJson<ListedExecution[]>(readme.listByParent, { 'parent id': replayA });
      expect(workflowIds(ofReplay)).toEqual([replayWorkflowId(replayB)]);
      expect(searchAttribute(ofReplay[0]!, 'RootExecutionId')).toBe(parentId);
      const tree = await runJson<ListedExecution[]>(readme.listByRoot, { 'root id': parentId });
      expect(workflowIds(tree).sort()).toEqual([replayWorkflowId(replayA), replayWorkflowId(replayB)].sort());
    });
    expect(await run(readme.listByRoot, { 'root id': parentId })).toContain(replayWorkflowId(replayB));
    // the README's note: one line per replay whatever continue-as-new did
    const latest = JSON.parse(
      await cli(
        'workflow',
        'list',
        '--query',
        `RootExecutionId='${parentId}' AND ExecutionStatus != 'ContinuedAsNew'`,
        '-o',
        'json',
      ),
    );
    expect(latest).toHaveLength(2);
    const described = await run(readme.describe, { 'execution id': replayB });
    expect(described).toContain('RootExecutionId');
    expect(described).toContain(replayA);
    // its parent by tag
    expect(described).toContain(
      `StaticSummary  "replay of ${tag}: markdown_segmented -> embedding_generator (lineage)"`,
    );
  });
});

describe('progress, resume and cancel', () => {
  it('shows the progress of a finished and of an interrupted replay, and the history', async () => {
    const done = await runJson(readme.progress, { 'execution id': replayA });
    const progress = done.queryResult?.[0] ?? done;
    expect(progress).toMatchObject({
      execution_id: replayA,
      status: 'completed',
      published: OBJECTS,
      listed: OBJECTS,
    });
    const waiting = await runJson(readme.progress, { 'execution id': interrupted[0]! });
    const stuck = waiting.queryResult?.[0] ?? waiting;
    expect(stuck).toMatchObject({
      execution_id: interrupted[0],
      status: 'interrupted',
      step: 'publishPages',
    });
    expect(stuck.last_error).toContain('bucket');
    expect(await run(readme.progress, { 'execution id': replayA })).toContain('completed');

    const events = await historyEvents(replayA);
    // one publishing activity lists and publishes the three pages
    expect(scheduledActivities(events, 'publishPages')).toBe(1);
    expect(await run(readme.history, { 'execution id': replayA })).toContain('WorkflowExecutionCompleted');
  });

  it('resume by signal: the replay tries again (and, the bucket still missing, waits interrupted again)', async () => {
    const id = interrupted[0]!;
    const listedBefore = scheduledActivities(await historyEvents(id), 'publishPages');
    await run(readme.resume, { 'execution id': id });
    await eventually(async () => {
      const events = await historyEvents(id);
      expect(signals(events, 'resume')).toBe(1);
      expect(scheduledActivities(events, 'publishPages')).toBeGreaterThan(listedBefore);
    });
    await waitForExecution(broken, id, (item) => item.status === 'interrupted');
    expect(await describeStatus(id)).toBe('WORKFLOW_EXECUTION_STATUS_RUNNING');
  });

  it('cancel by signal: record and routes become cancelled, the workflow completes', async () => {
    const id = interrupted[0]!;
    await run(readme.cancelSignal, { 'execution id': id });
    const cancelled = await waitForExecution(broken, id, (item) => item.status === 'cancelled');
    expect(cancelled.completed_at).not.toBeNull();
    const routes = await broken.pool.query(
      'SELECT DISTINCT status FROM execution_routes WHERE execution_id = $1',
      [id],
    );
    expect(routes.rows).toEqual([{ status: 'cancelled' }]);
    await eventually(async () =>
      expect(await describeStatus(id)).toBe('WORKFLOW_EXECUTION_STATUS_COMPLETED'),
    );
    const signal = (await historyEvents(id)).find(
      (event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'cancel',
    );
    const input = signal.workflowExecutionSignaledEventAttributes.input;
    const reason = JSON.stringify(input).includes('stopped by the on-call')
      ? 'stopped by the on-call'
      : JSON.parse(Buffer.from(input.payloads[0].data, 'base64').toString('utf8'));
    expect(reason).toBe('stopped by the on-call');
  });

  it("Temporal's cancellation request does the same", async () => {
    const id = interrupted[1]!;
    await run(readme.cancel, { 'execution id': id });
    const cancelled = await waitForExecution(broken, id, (item) => item.status === 'cancelled');
    expect(cancelled.error).toBe('cancelled by operator');
    // the workflow records the outcome and closes as Completed, as with the signal
    await eventually(async () =>
      expect(await describeStatus(id)).toBe('WORKFLOW_EXECUTION_STATUS_COMPLETED'),
    );
  });

  it('batch: resume then cancel every interrupted replay of one parent', async () => {
    const [third, fourth] = [interrupted[2]!, interrupted[3]!];
    const values = { 'parent id': brokenParents[1]! };
    // the batch job selects by visibility: wait until both are listed
    await eventually(async () => {
      const listed = await runJson<ListedExecution[]>(readme.listByParent, values);
      expect(listed.filter((item) => searchAttribute(item, 'ReplayStatus') === 'interrupted')).toHaveLength(
        2,
      );
    });
    await run(readme.batchResume, values);
    await eventually(async () => {
      for (const id of [third, fourth]) expect(signals(await historyEvents(id), 'resume')).toBe(1);
    }, 30_000);
    // interrupted again (the bucket is still missing). The batch job selects by visibility, which may
    // lag behind (running, then interrupted again): an operator runs it again, it is idempotent.
    for (const id of [third, fourth])
      await waitForExecution(broken, id, (item) => item.status === 'interrupted');
    for (let attempt = 1; ; attempt += 1) {
      await eventually(async () => {
        const listed = await runJson<ListedExecution[]>(readme.listInterruptedRunning);
        expect(workflowIds(listed)).toEqual(expect.arrayContaining([third, fourth].map(replayWorkflowId)));
      });
      await run(readme.batchCancel, values);
      try {
        for (const id of [third, fourth])
          await waitForExecution(broken, id, (item) => item.status === 'cancelled', 10_000);
        break;
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
    // the other parents' replays were not touched
    expect((await record(broken, interrupted[4]!)).status).toBe('interrupted');
  });

  it('a replay terminated outside the service is found, then resumed and cancelled through the api', async () => {
    const id = interrupted[4]!;
    await cli('workflow', 'terminate', '--workflow-id', replayWorkflowId(id), '--reason', 'operators test');
    await eventually(async () => {
      const closed = await runJson<ListedExecution[]>(readme.listClosedOutside);
      expect(workflowIds(closed)).toContain(replayWorkflowId(id));
      expect(closed.find((item) => item.execution.workflowId === replayWorkflowId(id))?.status).toBe(
        'WORKFLOW_EXECUTION_STATUS_TERMINATED',
      );
    });
    // the REST equivalents: resume starts a new run from the cursor kept in Postgres
    const resumed = await requestJson(broken, 'POST', `/api/v1/executions/${id}/resume`);
    expect([200, 202], JSON.stringify(resumed.body)).toContain(resumed.status);
    expect(await describeStatus(id)).toBe('WORKFLOW_EXECUTION_STATUS_RUNNING');
    await waitForExecution(broken, id, (item) => item.status === 'interrupted');
    const cancelled = await requestJson(broken, 'POST', `/api/v1/executions/${id}/cancel`);
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
  });
});

describe('the reconciler schedule', () => {
  it('is listed, described, triggered, paused and unpaused', async () => {
    const values = { 'task queue': stack.config.TEMPORAL_TASK_QUEUE };
    const scheduleId = reconcilerScheduleId(stack.config.TEMPORAL_TASK_QUEUE);
    await eventually(async () => {
      const listed = await runJson<{ scheduleId: string }[]>(readme.scheduleList);
      expect(listed.map((item) => item.scheduleId)).toContain(scheduleId);
    });
    expect(await run(readme.scheduleList)).toContain(scheduleId);

    const described = await runJson(readme.scheduleDescribe, values);
    expect(JSON.stringify(described.schedule.action)).toContain('reconcileReplays');
    const actionsBefore = Number(described.info?.actionCount ?? 0);
    await run(readme.scheduleTrigger, values);
    await eventually(async () => {
      const after = await runJson(readme.scheduleDescribe, values);
      expect(Number(after.info?.actionCount ?? 0)).toBeGreaterThan(actionsBefore);
    });

    await run(readme.schedulePause, values);
    expect((await runJson(readme.scheduleDescribe, values)).schedule.state.paused).toBe(true);
    expect(await run(readme.scheduleDescribe, values)).toContain('maintenance');
    await run(readme.scheduleUnpause, values);
    expect((await runJson(readme.scheduleDescribe, values)).schedule.state.paused ?? false).toBe(false);
  });

  it('its runs are left out of the list by the saved query', async () => {
    // the trigger above ran it at least once
    await eventually(async () => {
      const runs = JSON.parse(
        await cli('workflow', 'list', '--query', "WorkflowType = 'reconcileReplays'", '-o', 'json'),
      );
      expect(runs.length).toBeGreaterThan(0);
      const listed = await runJson<(ListedExecution & { type?: { name: string } })[]>(
        readme.listWithoutReconciler,
      );
      expect(workflowIds(listed)).toContain(replayWorkflowId(replayA));
      expect(
        workflowIds(listed).filter((id) =>
          runs.some((item: ListedExecution) => item.execution.workflowId === id),
        ),
      ).toEqual([]);
    });
    expect(await run(readme.listWithoutReconciler)).toContain(replayWorkflowId(replayA));
  });
});

describe('the README', () => {
  it('has no operators command that this file does not run', () => {
    expect(commands.length).toBeGreaterThan(20);
    expect(commands.filter((command) => !covered.has(command))).toEqual([]);
  });
});
