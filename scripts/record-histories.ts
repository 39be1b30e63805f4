/**
 * `npm run histories:record`: records the event histories of representative replays on a real
 * stack (the test harness's own services, api and worker) into a NEW set under test/histories/,
 * which `test/workflow-histories.test.ts` then replays against the workflow code of every commit.
 *
 * Recording is a deliberate act, never a way to make a failing replay pass: a history that no
 * longer replays means the change breaks the runs in flight that it stands for. Fix the change
 * (patched(), or a new workflow type; docs/workflow-versioning.md). This script therefore only ever
 * adds a set: it refuses to write into an existing one, and refuses to record from uncommitted
 * workflow code. A set is retired (git rm) only as the versioning policy says, in its own commit.
 *
 *   npm run histories:record                       # every scenario, set <date>-<commit>
 *   npm run histories:record -- --set after-x      # a named set
 *   npm run histories:record -- --only one-page,cancelled-interrupted
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { historyToJSON, type History } from '@temporalio/common/lib/proto-utils.js';
import { reconcileClosedReplays } from '../activities/index.ts';
import {
  bulkReplayWorkflowId,
  partitionWorkflowId,
  pauseSignal,
  previewWorkflowId,
  REPLAY_WORKFLOW_TYPE,
  replayWorkflowId,
  resumeSignal,
} from '../workflows/definitions.ts';
import { createApp } from '../api/app.ts';
import { apiSettingsFromConfig } from '../api/dependencies.ts';
import setup from '../test/global-setup.ts';
import {
  HISTORIES_DIR,
  SCENARIOS,
  type HistorySetManifest,
  type RecordedHistory,
  type ScenarioName,
} from '../test/support/history-sets.ts';
import type { TestStackInfo } from '../test/support/stack-info.ts';
import { createTestStack, type TestStack } from '../test/support/test-stack.ts';
import {
  createExecution,
  registerConfig,
  requestJson,
  seedOutputs,
  waitForExecution,
} from '../test/support/fixtures.ts';
import { sleep } from '../adapters/sleep.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STAGE = 'markdown_segmented';
const REPLAY = { replay_source: 'storage', from_stage: STAGE, to_route: 'embedding_generator' } as const;
const log = (line: string) => process.stderr.write(`[histories] ${line}\n`);

/**
 * The stacks the scenarios run on, each with its own task queue, schema and settings; built when a
 * scenario first needs one. Every scenario but `partitioned` runs one coordinator per replay.
 */
const stackSettings = {
  /** 2 keys a page, 2 pages a run: a few objects make several pages and runs. */
  paged: { REPLAY_PAGE_SIZE: '2', REPLAY_PAGES_PER_RUN: '2', REPLAY_MAX_PARTITIONS: '1' },
  /** 1 key a page, no continue-as-new: a replay publishes long enough to be cancelled or terminated. */
  long: { REPLAY_PAGE_SIZE: '1', REPLAY_PAGES_PER_RUN: '10000', REPLAY_MAX_PARTITIONS: '1' },
  /** Its bucket is created by the scenario, after the replay's step failed once: interrupted. */
  bucketLater: {
    REPLAY_PAGE_SIZE: '2',
    S3_BUCKET: 'created-later',
    REPLAY_STEP_MAX_ATTEMPTS: '1',
    REPLAY_MAX_PARTITIONS: '1',
  },
  /** Its bucket never exists; one attempt a step: interrupted at once. */
  noBucket: { S3_BUCKET: 'never-created', REPLAY_STEP_MAX_ATTEMPTS: '1' },
  /** A preview lists 2 keys within its request, then continues as a preview job. */
  previewJob: { PREVIEW_INLINE_MAX_KEYS: '2' },
  /** 2 keys a page; past 2 pages a replay is split into at most 3 partitions. */
  partitioned: {
    REPLAY_PAGE_SIZE: '2',
    REPLAY_PAGES_PER_RUN: '100',
    REPLAY_PARTITION_AFTER_PAGES: '2',
    REPLAY_MAX_PARTITIONS: '3',
  },
  /** 1 key a page, one coordinator: a paced replay publishes long enough to be paused. */
  paced: { REPLAY_PAGE_SIZE: '1', REPLAY_PAGES_PER_RUN: '10000', REPLAY_MAX_PARTITIONS: '1' },
  /** Its bucket never exists; ten attempts a step (1 s, 2 s, 4 s... apart). */
  noBucketRetrying: { S3_BUCKET: 'never-created', REPLAY_STEP_MAX_ATTEMPTS: '10' },
} satisfies Record<string, Record<string, string>>;

/** A run a scenario made, and the file its history goes to. */
type Run = Pick<RecordedHistory, 'file' | 'workflow_id' | 'run_id'>;

interface Scenario {
  name: ScenarioName;
  description: string;
  stack: keyof typeof stackSettings;
  /** Runs the scenario to its end; answers the runs to record, in order. */
  run(stack: TestStack): Promise<Run[]>;
}

const scenarios: Scenario[] = [
  {
    name: 'one-page',
    description: 'a replay of 2 objects: one page, one run',
    stack: 'paged',
    async run(stack) {
      const id = await replayOf(stack, await parentWithOutputs(stack, 2));
      await waitForExecution(stack, id, (record) => record.status === 'completed');
      return runsOf(stack, replayWorkflowId(id), 'one-page');
    },
  },
  {
    name: 'continue-as-new',
    description: 'a replay of 9 objects, 2 a page, 2 pages a run: three runs chained by continue-as-new',
    stack: 'paged',
    async run(stack) {
      const id = await replayOf(stack, await parentWithOutputs(stack, 9));
      await waitForExecution(stack, id, (record) => record.status === 'completed');
      const runs = await runsOf(stack, replayWorkflowId(id), 'continue-as-new');
      if (runs.length < 3) throw new Error(`expected 3 runs, got ${runs.length}`);
      return runs;
    },
  },
  {
    name: 'interrupted-resumed',
    description:
      'a replay whose bucket is missing (1 attempt a step): interrupted, resumed by signal, completed',
    stack: 'bucketLater',
    async run(stack) {
      const parent = await createExecution(stack, await configOf(stack));
      const id = await replayOf(stack, parent.id);
      await waitForExecution(stack, id, (record) => record.status === 'interrupted');
      await stack.objectStore.ensureBucket();
      await seedOutputs(stack, parent.id, STAGE, 3);
      await expectStatus(await requestJson(stack, 'POST', `/api/v1/executions/${id}/resume`), 200);
      await waitForExecution(stack, id, (record) => record.status === 'completed');
      return runsOf(stack, replayWorkflowId(id), 'interrupted-resumed');
    },
  },
  {
    name: 'cancelled-publishing',
    description:
      'a replay cancelled through the api while its publishing activity runs; the record is cancelled inside the workflow task, so the activity often fails on its next page before that task completes, and the task runs again (UnhandledCommand): either history is correct',
    stack: 'long',
    async run(stack) {
      const id = await replayOf(stack, await parentWithOutputs(stack, 150));
      await waitForExecution(stack, id, (record) => record.published_count >= 2, 60_000);
      await expectStatus(await requestJson(stack, 'POST', `/api/v1/executions/${id}/cancel`), 200);
      return runsOf(stack, replayWorkflowId(id), 'cancelled-publishing');
    },
  },
  {
    name: 'cancelled-between-attempts',
    description:
      'a replay cancelled while its publishing activity waits for its next attempt (its bucket is missing): the cancel request reaches a pending activity',
    stack: 'noBucketRetrying',
    async run(stack) {
      const id = await replayOf(stack, (await createExecution(stack, await configOf(stack))).id);
      const handle = stack.temporal.workflow.getHandle(replayWorkflowId(id));
      await waitFor(async () => {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        return (pending[0]?.attempt ?? 0) >= 2 ? true : undefined;
      });
      await expectStatus(await requestJson(stack, 'POST', `/api/v1/executions/${id}/cancel`), 200);
      const runs = await runsOf(stack, replayWorkflowId(id), 'cancelled-between-attempts');
      await handle.result();
      if (!historyToJSON(await handle.fetchHistory()).includes('activityTaskCancelRequestedEventAttributes'))
        throw new Error('the workflow did not ask its pending activity to cancel');
      return runs;
    },
  },
  {
    name: 'cancelled-interrupted',
    description: 'a replay cancelled through the api while it is interrupted (its bucket is missing)',
    stack: 'noBucket',
    async run(stack) {
      const id = await replayOf(stack, (await createExecution(stack, await configOf(stack))).id);
      await waitForExecution(stack, id, (record) => record.status === 'interrupted');
      await expectStatus(await requestJson(stack, 'POST', `/api/v1/executions/${id}/cancel`), 200);
      return runsOf(stack, replayWorkflowId(id), 'cancelled-interrupted');
    },
  },
  {
    name: 'terminated-resumed',
    description:
      'a replay whose workflow was terminated mid-publishing, marked interrupted by the reconciler, and resumed by a new run (resume: true)',
    stack: 'long',
    async run(stack) {
      const id = await replayOf(stack, await parentWithOutputs(stack, 150));
      const workflowId = replayWorkflowId(id);
      await waitForExecution(stack, id, (record) => record.published_count >= 2, 60_000);
      const terminated = stack.temporal.workflow.getHandle(workflowId);
      const terminatedRun = (await terminated.describe()).runId;
      await terminated.terminate('recording a terminated replay');
      // as the reconciler's schedule would (it may have already)
      await reconcileClosedReplays(
        { pool: stack.pool, temporal: stack.temporal, logger: stack.logger },
        { graceSeconds: 0 },
      );
      await waitForExecution(stack, id, (record) => record.status === 'interrupted', 5000);
      await expectStatus(await requestJson(stack, 'POST', `/api/v1/executions/${id}/resume`), 200);
      await waitForExecution(stack, id, (record) => record.status === 'completed', 60_000);
      const resumedRun = (await stack.temporal.workflow.getHandle(workflowId).describe()).runId;
      return [
        { file: 'terminated-resumed-1-terminated.json', workflow_id: workflowId, run_id: terminatedRun },
        { file: 'terminated-resumed-2-resumed.json', workflow_id: workflowId, run_id: resumedRun },
      ];
    },
  },
  {
    name: 'bulk-bad-parent',
    description: 'a bulk replay of a good parent and an unknown tag, one at a time; with its one child',
    stack: 'paged',
    async run(stack) {
      const good = await parentWithOutputs(stack, 3);
      const created = await requestJson(stack, 'POST', '/api/v1/bulk-replays', {
        replay: REPLAY,
        execution_ids: [good, 'no-such-tag'],
        max_concurrent: 1,
      });
      await expectStatus(created, 202);
      const bulkId = created.body.id as string;
      const done = await waitFor(async () => {
        const bulk = await requestJson(stack, 'GET', `/api/v1/bulk-replays/${bulkId}`);
        return bulk.body.status === 'completed' ? bulk.body : undefined;
      });
      if (done.completed !== 1 || done.failed !== 1)
        throw new Error(`unexpected bulk replay ${JSON.stringify(done)}`);
      const items = await requestJson(stack, 'GET', `/api/v1/bulk-replays/${bulkId}/items`);
      const childId = items.body.items[0].execution_id as string;
      return [
        ...(await runsOf(stack, bulkReplayWorkflowId(bulkId), 'bulk-bad-parent')),
        ...(await runsOf(stack, replayWorkflowId(childId), 'bulk-bad-parent-child')),
      ];
    },
  },
  {
    name: 'preview-job',
    description: 'a replay preview of 5 objects that continues as a preview job (2 keys within the request)',
    stack: 'previewJob',
    async run(stack) {
      const parent = await parentWithOutputs(stack, 5);
      const started = await requestJson(stack, 'POST', `/api/v1/executions/${parent}/replay/preview`, REPLAY);
      await expectStatus(started, 202);
      const previewId = started.body.id as string;
      await waitFor(async () => {
        const preview = await requestJson(stack, 'GET', `/api/v1/replay-previews/${previewId}`);
        return preview.body.status === 'completed' ? preview.body : undefined;
      });
      return runsOf(stack, previewWorkflowId(previewId), 'preview-job');
    },
  },
  {
    name: 'partitioned',
    description:
      'a replay of 3 folders of 4 objects, 2 a page: 2 pages as one, then split into partitions; with each partition',
    stack: 'partitioned',
    async run(stack) {
      const parent = await createExecution(stack, await configOf(stack));
      for (const folder of ['a/', 'b/', 'c/']) await seedOutputs(stack, parent.id, STAGE, 4, { folder });
      const id = await replayOf(stack, parent.id);
      await waitForExecution(stack, id, (record) => record.status === 'completed');
      await stack.temporal.workflow.getHandle(replayWorkflowId(id)).result();
      const partitions = (
        await stack.pool.query<{ partition: number }>(
          'SELECT partition FROM replay_partitions WHERE execution_id = $1 ORDER BY partition',
          [id],
        )
      ).rows;
      if (partitions.length < 2) throw new Error(`expected partitions, got ${partitions.length}`);
      const runs = await runsOf(stack, replayWorkflowId(id), 'partitioned');
      for (const { partition } of partitions) {
        runs.push(
          ...(await runsOf(
            stack,
            partitionWorkflowId(replayWorkflowId(id), partition),
            `partitioned-p${partition}`,
          )),
        );
      }
      return runs;
    },
  },
  {
    name: 'paused-resumed',
    description: 'a replay paced at 4 messages/s, paused, its rate raised by signal, resumed, completed',
    stack: 'paced',
    async run(stack) {
      const parent = await parentWithOutputs(stack, 12);
      const started = await requestJson(stack, 'POST', `/api/v1/executions/${parent}/replay`, {
        ...REPLAY,
        max_messages_per_second: 4,
      });
      await expectStatus(started, 200);
      const id = started.body.id as string;
      await waitForExecution(stack, id, (record) => record.published_count >= 2);
      await expectStatus(await requestJson(stack, 'POST', `/api/v1/executions/${id}/pause`), 200);
      await stack.temporal.workflow.getHandle(replayWorkflowId(id)).signal('setRate', 50);
      await expectStatus(await requestJson(stack, 'POST', `/api/v1/executions/${id}/resume`), 200);
      await waitForExecution(stack, id, (record) => record.status === 'completed');
      return runsOf(stack, replayWorkflowId(id), 'paused-resumed');
    },
  },
  {
    name: 'partition-failed',
    description:
      'a paced replay split into partitions whose record is failed meanwhile: each partition fails for good, and so does the replay',
    stack: 'partitioned',
    async run(stack) {
      const parent = await createExecution(stack, await configOf(stack));
      for (const folder of ['a/', 'b/', 'c/']) await seedOutputs(stack, parent.id, STAGE, 10, { folder });
      const started = await requestJson(stack, 'POST', `/api/v1/executions/${parent.id}/replay`, {
        ...REPLAY,
        max_messages_per_second: 2,
      });
      await expectStatus(started, 200);
      const id = started.body.id as string;
      await waitFor(async () => {
        const found = await stack.pool.query('SELECT 1 FROM replay_partitions WHERE execution_id = $1', [id]);
        return found.rowCount ? true : undefined;
      });
      // another path finishes the record: the partitions' next page finds it not running
      await stack.pool.query(
        `UPDATE executions SET status = 'failed', error = 'failed by the recorder' WHERE id = $1`,
        [id],
      );
      await stack.temporal.workflow
        .getHandle(replayWorkflowId(id))
        .result()
        .catch(() => undefined);
      const partitions = (
        await stack.pool.query<{ partition: number }>(
          'SELECT partition FROM replay_partitions WHERE execution_id = $1 ORDER BY partition',
          [id],
        )
      ).rows;
      const runs = await runsOf(stack, replayWorkflowId(id), 'partition-failed');
      for (const { partition } of partitions) {
        runs.push(
          ...(await runsOf(
            stack,
            partitionWorkflowId(replayWorkflowId(id), partition),
            `partition-failed-p${partition}`,
          )),
        );
      }
      return runs;
    },
  },
  {
    name: 'bulk-resumed-cancelled',
    description:
      'a bulk replay of 2 paced parents terminated outside the service, resumed, then cancelled: the resumed run stops the children the first run left running',
    stack: 'paced',
    async run(stack) {
      const parents = [await parentWithOutputs(stack, 60), await parentWithOutputs(stack, 60)];
      const created = await requestJson(stack, 'POST', '/api/v1/bulk-replays', {
        replay: { ...REPLAY, max_messages_per_second: 4 },
        execution_ids: parents,
        max_concurrent: 2,
      });
      await expectStatus(created, 202);
      const bulkId = created.body.id as string;
      const bulkOf = async () => (await requestJson(stack, 'GET', `/api/v1/bulk-replays/${bulkId}`)).body;
      await waitFor(async () => ((await bulkOf()).started === 2 ? true : undefined));
      await stack.temporal.workflow
        .getHandle(bulkReplayWorkflowId(bulkId))
        .terminate('closed outside the service');
      const resumed = await requestJson(stack, 'POST', `/api/v1/bulk-replays/${bulkId}/resume`);
      if (resumed.status !== 200 && resumed.status !== 202) await expectStatus(resumed, 200);
      // the new run waits for the children the first one started
      await sleep(1500);
      const cancelled = await requestJson(stack, 'POST', `/api/v1/bulk-replays/${bulkId}/cancel`);
      if (cancelled.status !== 200 && cancelled.status !== 202) await expectStatus(cancelled, 200);
      await waitFor(async () => ((await bulkOf()).status === 'cancelled' ? true : undefined));
      await stack.temporal.workflow.getHandle(bulkReplayWorkflowId(bulkId)).result();
      return runsOf(stack, bulkReplayWorkflowId(bulkId), 'bulk-resumed-cancelled');
    },
  },
  {
    name: 'preview-cancelled',
    description:
      'a replay preview of 5 objects continued as a preview job whose counting step waits on a publish task queue no worker polls, cancelled (as from the Temporal UI or CLI) while it runs: the preview ends cancelled',
    stack: 'previewJob',
    async run(stack) {
      // an api whose preview jobs count where nobody polls, as test/replay-preview.test.ts builds it
      const settings = apiSettingsFromConfig(stack.config);
      const app = createApp({
        pool: stack.pool,
        temporal: stack.temporal,
        objectStore: stack.objectStore,
        routeTransport: stack.routeTransport,
        logger: stack.logger,
        settings: {
          ...settings,
          replay: {
            ...settings.replay,
            publishTaskQueue: `${settings.replay.publishTaskQueue}-nobody-polls`,
          },
        },
      });
      const parent = await parentWithOutputs(stack, 5);
      const started = await app.request(`/api/v1/executions/${parent}/replay/preview`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...stack.authHeaders },
        body: JSON.stringify(REPLAY),
      });
      const body = (await started.json()) as { id: string };
      await expectStatus({ status: started.status, body }, 202);
      const handle = stack.temporal.workflow.getHandle(previewWorkflowId(body.id));
      // the workflow is waiting on its counting step
      await waitFor(async () => ((await handle.describe()).raw.pendingActivities?.length ? true : undefined));
      await handle.cancel();
      const outcome = await handle.result();
      if (outcome.status !== 'cancelled') throw new Error(`unexpected preview ${JSON.stringify(outcome)}`);
      const shown = await requestJson(stack, 'GET', `/api/v1/replay-previews/${body.id}`);
      if (shown.body.status !== 'cancelled')
        throw new Error(`unexpected preview ${JSON.stringify(shown.body)}`);
      const history = readable(await handle.fetchHistory());
      if (!history.includes('workflowExecutionCancelRequestedEventAttributes'))
        throw new Error('the preview was not asked to cancel');
      if (!history.includes('"preview-cancel-recorded"') || !history.includes('"cancelReplayPreview"'))
        throw new Error('the preview did not take the recorded-cancel branch');
      return runsOf(stack, previewWorkflowId(body.id), 'preview-cancelled');
    },
  },
  {
    name: 'bulk-child-not-started',
    description:
      'a bulk replay of 2 parents, one at a time, whose second child workflow could not be started (its workflow id taken while the first child ran): its item fails with REPLAY_NOT_STARTED and the bulk replay completes',
    stack: 'paced',
    async run(stack) {
      const parents = [await parentWithOutputs(stack, 24), await parentWithOutputs(stack, 2)];
      const created = await requestJson(stack, 'POST', '/api/v1/bulk-replays', {
        replay: { ...REPLAY, max_messages_per_second: 4 },
        execution_ids: parents,
        max_concurrent: 1,
      });
      await expectStatus(created, 202);
      const bulkId = created.body.id as string;
      // the second child's id is taken while the first child publishes (24 messages at 4 a second)
      await takeSecondChildWorkflowId(stack, bulkId);
      const done = await waitFor(async () => {
        const bulk = await requestJson(stack, 'GET', `/api/v1/bulk-replays/${bulkId}`);
        return bulk.body.status === 'completed' ? bulk.body : undefined;
      });
      if (done.completed !== 1 || done.failed !== 1)
        throw new Error(`unexpected bulk replay ${JSON.stringify(done)}`);
      const history = readable(
        await stack.temporal.workflow.getHandle(bulkReplayWorkflowId(bulkId)).fetchHistory(),
      );
      if (!history.includes('startChildWorkflowExecutionFailedEventAttributes'))
        throw new Error('no child start failed');
      if (!history.includes('"bulk-child-not-started-recorded"') || !history.includes('"refuseBulkChild"'))
        throw new Error('the bulk replay did not take the recorded-not-started branch');
      return runsOf(stack, bulkReplayWorkflowId(bulkId), 'bulk-child-not-started');
    },
  },
  {
    name: 'canary-paused',
    description:
      'a replay of 6 objects, 1 a page, with a canary of 2 messages nobody answers within 2 s: it pauses itself (reason canary), is resumed through the api, and completes',
    stack: 'long',
    async run(stack) {
      const parent = await parentWithOutputs(stack, 6);
      const started = await requestJson(stack, 'POST', `/api/v1/executions/${parent}/replay`, {
        ...REPLAY,
        canary: { messages: 2, within_seconds: 2, min_output_ratio: 0.5 },
      });
      await expectStatus(started, 200);
      const id = started.body.id as string;
      const paused = await waitForExecution(stack, id, (record) => record.paused);
      if (paused.paused_reason !== 'canary' || paused.published_count !== 2)
        throw new Error(`unexpected pause ${JSON.stringify(paused)}`);
      const resumed = await requestJson(stack, 'POST', `/api/v1/executions/${id}/resume`);
      if (resumed.status !== 200 && resumed.status !== 202) await expectStatus(resumed, 200);
      const done = await waitForExecution(stack, id, (record) => record.status === 'completed');
      if (done.published_count !== 6) throw new Error(`unexpected replay ${JSON.stringify(done)}`);
      const history = readable(await stack.temporal.workflow.getHandle(replayWorkflowId(id)).fetchHistory());
      if (!history.includes('"replay-canary"') || !history.includes('"activity_type":"setReplayPaused"'))
        throw new Error('the replay did not pause itself for its canary');
      return runsOf(stack, replayWorkflowId(id), 'canary-paused');
    },
  },
  {
    name: 'bulk-paused-resumed',
    description:
      'a bulk replay of 2 paced parents, one at a time, paused and resumed by bare signals (as from the Temporal UI): it writes both to Postgres itself',
    stack: 'paced',
    async run(stack) {
      const parents = [await parentWithOutputs(stack, 20), await parentWithOutputs(stack, 20)];
      const created = await requestJson(stack, 'POST', '/api/v1/bulk-replays', {
        replay: { ...REPLAY, max_messages_per_second: 10 },
        execution_ids: parents,
        max_concurrent: 1,
      });
      await expectStatus(created, 202);
      const bulkId = created.body.id as string;
      const bulkOf = async () => (await requestJson(stack, 'GET', `/api/v1/bulk-replays/${bulkId}`)).body;
      const handle = stack.temporal.workflow.getHandle(bulkReplayWorkflowId(bulkId));
      await waitFor(async () => ((await bulkOf()).started === 1 ? true : undefined));
      await handle.signal(pauseSignal);
      await waitFor(async () => ((await bulkOf()).paused_reason === 'operator' ? true : undefined));
      await handle.signal(resumeSignal);
      await waitFor(async () => ((await bulkOf()).paused_reason === null ? true : undefined));
      await waitFor(async () => ((await bulkOf()).status === 'completed' ? true : undefined));
      await handle.result();
      return runsOf(stack, bulkReplayWorkflowId(bulkId), 'bulk-paused-resumed');
    },
  },
  {
    name: 'bulk-failed-children-paused',
    description:
      'a bulk replay of 3 parents, one at a time, with pause_after_failed_children 1: its second child could not be started (its workflow id taken), so it pauses itself (reason failed_children), is resumed through the api, and completes the third',
    stack: 'paced',
    async run(stack) {
      const parents = [
        await parentWithOutputs(stack, 24),
        await parentWithOutputs(stack, 2),
        await parentWithOutputs(stack, 2),
      ];
      const created = await requestJson(stack, 'POST', '/api/v1/bulk-replays', {
        replay: { ...REPLAY, max_messages_per_second: 4 },
        execution_ids: parents,
        max_concurrent: 1,
        pause_after_failed_children: 1,
      });
      await expectStatus(created, 202);
      const bulkId = created.body.id as string;
      const bulkOf = async () => (await requestJson(stack, 'GET', `/api/v1/bulk-replays/${bulkId}`)).body;
      // as in bulk-child-not-started: the second child's workflow id is taken while the first publishes
      await takeSecondChildWorkflowId(stack, bulkId);
      const paused = await waitFor(async () => {
        const bulk = await bulkOf();
        return bulk.paused_reason === 'failed_children' ? bulk : undefined;
      });
      if (paused.failed_children !== 1) throw new Error(`unexpected pause ${JSON.stringify(paused)}`);
      const resumed = await requestJson(stack, 'POST', `/api/v1/bulk-replays/${bulkId}/resume`);
      if (resumed.status !== 200 && resumed.status !== 202) await expectStatus(resumed, 200);
      const done = await waitFor(async () => {
        const bulk = await bulkOf();
        return bulk.status === 'completed' ? bulk : undefined;
      });
      if (done.completed !== 2 || done.failed !== 1)
        throw new Error(`unexpected bulk replay ${JSON.stringify(done)}`);
      const history = readable(
        await stack.temporal.workflow.getHandle(bulkReplayWorkflowId(bulkId)).fetchHistory(),
      );
      if (
        !history.includes('"bulk-pause-after-failed-children"') ||
        !history.includes('"setBulkReplayPaused"')
      )
        throw new Error('the bulk replay did not pause itself for its failed children');
      return runsOf(stack, bulkReplayWorkflowId(bulkId), 'bulk-failed-children-paused');
    },
  },
];

/**
 * Makes a bulk replay's second child unable to start: both parents are checked in one window, so its
 * execution id is known before it starts, and its workflow id is taken by a workflow that never runs
 * (a task queue no worker polls), closed at once.
 */
async function takeSecondChildWorkflowId(stack: TestStack, bulkId: string): Promise<void> {
  const secondChild = await waitFor(async () => {
    const found = await stack.pool.query<{ execution_id: string | null }>(
      'SELECT execution_id::text FROM bulk_replay_items WHERE bulk_replay_id = $1 AND position = 1',
      [bulkId],
    );
    return found.rows[0]?.execution_id ?? undefined;
  });
  const taken = await stack.temporal.workflow.start(REPLAY_WORKFLOW_TYPE, {
    workflowId: replayWorkflowId(secondChild),
    taskQueue: `${stack.config.TEMPORAL_TASK_QUEUE}-nobody-polls`,
    args: [],
  });
  await taken.terminate('recording a bulk child whose workflow id is taken');
}

const configs = new Map<TestStack, string>();
async function configOf(stack: TestStack): Promise<string> {
  if (!configs.has(stack)) configs.set(stack, (await registerConfig(stack)).id);
  return configs.get(stack)!;
}

async function parentWithOutputs(stack: TestStack, count: number): Promise<string> {
  const parent = await createExecution(stack, await configOf(stack));
  await seedOutputs(stack, parent.id, STAGE, count);
  return parent.id;
}

async function replayOf(stack: TestStack, parentId: string): Promise<string> {
  const response = await requestJson(stack, 'POST', `/api/v1/executions/${parentId}/replay`, REPLAY);
  await expectStatus(response, 200);
  return response.body.id as string;
}

async function expectStatus(response: { status: number; body: unknown }, status: number) {
  if (response.status !== status)
    throw new Error(`expected ${status}, got ${response.status}: ${JSON.stringify(response.body)}`);
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(200);
  }
  throw new Error('timed out');
}

/** Every run of a workflow id, first to last, following the continue-as-new chain back from the last. */
async function runsOf(stack: TestStack, workflowId: string, name: string): Promise<Run[]> {
  const runIds: string[] = [];
  let runId: string | undefined = (await stack.temporal.workflow.getHandle(workflowId).describe()).runId;
  while (runId) {
    runIds.unshift(runId);
    const history: History = await stack.temporal.workflow.getHandle(workflowId, runId).fetchHistory();
    runId =
      history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  return runIds.map((runId, index) => ({
    file: runIds.length === 1 ? `${name}.json` : `${name}-${index + 1}.json`,
    workflow_id: workflowId,
    run_id: runId,
  }));
}

/** A history as JSON with its payloads decoded: patch ids, local activities' types and results. */
function readable(history: History): string {
  return JSON.stringify(
    JSON.parse(historyToJSON(history), (key, value: unknown) => {
      if (key !== 'data' || typeof value !== 'string') return value;
      const text = Buffer.from(value, 'base64').toString('utf8');
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    }),
  );
}

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
}

async function main() {
  const { values } = parseArgs({
    options: { set: { type: 'string' }, only: { type: 'string' } },
  });
  const dirty = git('status', '--porcelain', '--', 'workflows', 'activities');
  if (dirty) {
    throw new Error(
      `uncommitted changes in workflows/ or activities/:\n${dirty}\nhistories are recorded from committed code only`,
    );
  }
  const commit = git('rev-parse', 'HEAD');
  const set = values.set ?? `${new Date().toISOString().slice(0, 10)}-${commit.slice(0, 7)}`;
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(set)) throw new Error(`bad set name '${set}'`);
  const setDir = path.join(HISTORIES_DIR, set);
  if (existsSync(setDir)) {
    throw new Error(
      `${path.relative(ROOT, setDir)} exists: a set is never recorded again (docs/workflow-versioning.md)`,
    );
  }
  const missing = SCENARIOS.filter((name) => !scenarios.some((scenario) => scenario.name === name));
  if (missing.length > 0)
    throw new Error(`SCENARIOS lists scenarios with no recording: ${missing.join(', ')}`);
  const only = values.only?.split(',').map((name) => name.trim());
  const chosen = only ? scenarios.filter((scenario) => only.includes(scenario.name)) : scenarios;
  if (only && chosen.length !== only.length)
    throw new Error(`unknown scenario; known: ${scenarios.map((scenario) => scenario.name).join(', ')}`);

  log('starting the test services');
  let services: TestStackInfo | undefined;
  const teardown = await setup({
    provide: (_key, value) => {
      services = value;
    },
  });
  const stacks = new Map<string, TestStack>();
  async function stackOf(name: keyof typeof stackSettings): Promise<TestStack> {
    if (!stacks.has(name)) {
      const stack = await createTestStack(stackSettings[name], { services });
      stacks.set(name, stack);
      await stack.startWorker('history-recorder');
    }
    return stacks.get(name)!;
  }
  try {
    const recorded: { history: RecordedHistory; json: string }[] = [];
    for (const scenario of chosen) {
      log(`recording ${scenario.name}`);
      const stack = await stackOf(scenario.stack);
      for (const run of await scenario.run(stack)) {
        const handle = stack.temporal.workflow.getHandle(run.workflow_id, run.run_id);
        // the record changes inside a workflow task (local activities): its events come after
        const description = await waitFor(async () => {
          const described = await handle.describe();
          return described.status.name === 'RUNNING' ? undefined : described;
        });
        // stack traces in failures name files relative to the repository, not this machine
        const json = historyToJSON(await handle.fetchHistory()).replaceAll(ROOT, '');
        recorded.push({
          history: {
            ...run,
            workflow_type: description.type,
            scenario: scenario.name,
            description: scenario.description,
          },
          json,
        });
      }
    }

    const bundle = await readFile(services!.workflowBundlePath);
    const manifest: HistorySetManifest = {
      set,
      recorded_at: new Date().toISOString(),
      commit,
      workflow_bundle_sha256: createHash('sha256').update(bundle).digest('hex'),
      histories: recorded.map((item) => item.history),
    };
    await mkdir(setDir, { recursive: true });
    for (const { history, json } of recorded) await writeFile(path.join(setDir, history.file), `${json}\n`);
    await writeFile(path.join(setDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    log(`wrote ${recorded.length} histories to ${path.relative(ROOT, setDir)}`);
  } finally {
    for (const stack of stacks.values()) await stack.close().catch(() => {});
    await teardown();
  }
}

await main();
