/**
 * The determinism safety net: every history committed under test/histories/ (recorded from real
 * runs by `npm run histories:record`) is replayed against today's workflow code, bundled as the
 * worker bundles it. A failure here means the change would break every run in flight that the
 * history stands for, at deploy time: guard the change with patched() or give it a new workflow
 * type (docs/workflow-versioning.md). Never re-record or delete a history to make this pass.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type ReplayResult } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { HISTORIES_DIR, SCENARIOS, type HistorySetManifest } from './support/history-sets.ts';
import {
  PATCHED_CHANGE_WORKFLOW_ID,
  UNGUARDED_CHANGE_WORKFLOW_ID,
} from './support/changed-replay-workflow.ts';

interface History {
  set: string;
  file: string;
  workflowId: string;
  json: unknown;
}

const sets: HistorySetManifest[] = readdirSync(HISTORIES_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => JSON.parse(readFileSync(path.join(HISTORIES_DIR, entry.name, 'manifest.json'), 'utf8')));

const histories: History[] = sets.flatMap((set) =>
  set.histories.map((history) => ({
    set: set.set,
    file: history.file,
    workflowId: history.workflow_id,
    json: JSON.parse(readFileSync(path.join(HISTORIES_DIR, set.set, history.file), 'utf8')),
  })),
);

// the SDK's own logs only for errors: the changed workflow's nondeterminism below is expected (each test file runs in its own process)
Runtime.install({ logger: new DefaultLogger('ERROR') });

/** Today's workflows, as the shared test workers run them (one bundle for the whole run). */
const todaysCode = () => ({ workflowBundle: { codePath: inject('stack').workflowBundlePath } });

describe('committed histories', () => {
  it('cover every scenario the recorder knows, in sets that list exactly their files', () => {
    expect(sets.length).toBeGreaterThan(0);
    for (const set of sets) {
      const files = readdirSync(path.join(HISTORIES_DIR, set.set)).filter((file) => file !== 'manifest.json');
      expect(files.sort(), set.set).toEqual(set.histories.map((history) => history.file).sort());
    }
    const recorded = new Set(sets.flatMap((set) => set.histories.map((history) => history.scenario)));
    expect(SCENARIOS.filter((name) => !recorded.has(name))).toEqual([]);
  });

  // one replay worker for them all; results come back in the order the histories were given
  let results: ReplayResult[];
  beforeAll(async () => {
    results = [];
    const replays = Worker.runReplayHistories(
      todaysCode(),
      histories.map((history) => ({ workflowId: history.workflowId, history: history.json })),
    );
    for await (const result of replays) results.push(result);
  });

  it.each(histories.map((history, index) => [`${history.set}/${history.file}`, index] as const))(
    '%s replays against today’s workflow code',
    (_name, index) => {
      const result = results[index]!;
      expect(result.workflowId).toBe(histories[index]!.workflowId);
      expect(
        result.error,
        'today’s code cannot replay a run it must keep running: guard the change (docs/workflow-versioning.md), never re-record',
      ).toBeUndefined();
    },
  );
});

describe('the safety net itself', () => {
  const onePage = histories.find((history) => history.file.startsWith('one-page'))!;
  let changedCode: { workflowBundle: { code: string } };
  beforeAll(async () => {
    const workflowsPath = fileURLToPath(new URL('./support/changed-replay-workflow.ts', import.meta.url));
    changedCode = { workflowBundle: await bundleWorkflowCode({ workflowsPath, logger: quietLogger }) };
  });

  it('fails a history when workflow code changes without a guard', async () => {
    await expect(
      Worker.runReplayHistory(changedCode, onePage.json, UNGUARDED_CHANGE_WORKFLOW_ID),
    ).rejects.toBeInstanceOf(DeterminismViolationError);
  });

  it('replays it when the same change is behind patched()', async () => {
    await Worker.runReplayHistory(changedCode, onePage.json, PATCHED_CHANGE_WORKFLOW_ID);
  });
});

const quietLogger = { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} };
