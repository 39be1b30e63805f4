/**
 * The replay request's checks (services/replay-request.ts) on records held in memory: each refusal
 * with its status and code, in the documented order, and what a valid request resolves to.
 */
import { describe, expect, it } from 'vitest';
import type { ExecutionRecord } from '../../adapters/executions.ts';
import type { PipelineConfig } from '../../adapters/pipeline-configs.ts';
import {
  prepareReplay,
  ReplayRequestRefused,
  type ReplayRequest,
  type ReplayRequestLookups,
} from '../../services/replay-request.ts';

const PARENT_ID = '01936f8e-6c2a-7cc3-9a53-5b8a2f1c9d10';
const ROOT_ID = '01936f8e-0000-7000-8000-000000000001';
const CONFIG_ID = '01936f8e-0000-7000-8000-000000000002';
const OTHER_CONFIG_ID = '01936f8e-0000-7000-8000-000000000003';

function config(id: string, routes: PipelineConfig['routes'], stages: string[]): PipelineConfig {
  const at = '2024-11-30T10:00:00.000Z';
  return { id, name: id, stages, routes, entry_route: routes[0]!.name, created_at: at, updated_at: at };
}

const configs = new Map([
  [
    CONFIG_ID,
    config(
      CONFIG_ID,
      [
        { name: 'markdown_segmenter', input_stage: 'markdown', output_stage: 'markdown_segmented' },
        { name: 'embedding_generator', input_stage: 'markdown_segmented', output_stage: 'embeddings' },
      ],
      ['markdown', 'markdown_segmented', 'embeddings'],
    ),
  ],
  [
    OTHER_CONFIG_ID,
    config(
      OTHER_CONFIG_ID,
      [
        { name: 'embedding_generator_v2', input_stage: 'markdown_segmented', output_stage: 'embeddings_v2' },
        { name: 'indexer', input_stage: 'markdown_segmented', output_stage: null },
      ],
      ['markdown_segmented', 'embeddings_v2'],
    ),
  ],
]);

const parent = {
  id: PARENT_ID,
  config_id: CONFIG_ID,
  root_execution_id: ROOT_ID,
  tag: 'nightly',
} as ExecutionRecord;

const lookups: ReplayRequestLookups = {
  findExecution: async (ref) => (ref === PARENT_ID || ref === 'nightly' ? parent : undefined),
  findConfig: async (id) => configs.get(id),
};

const valid: ReplayRequest = {
  replay_source: 'storage',
  from_stage: 'markdown_segmented',
  to_route: 'embedding_generator',
};

async function refusalOf(body: Partial<ReplayRequest>, parentRef = PARENT_ID) {
  const error = await prepareReplay(lookups, parentRef, { ...valid, ...body }).catch((caught) => caught);
  expect(error).toBeInstanceOf(ReplayRequestRefused);
  return error as ReplayRequestRefused;
}

describe('prepareReplay', () => {
  it('resolves a valid request to the new execution, by id or by tag', async () => {
    for (const ref of [PARENT_ID, 'nightly']) {
      const prepared = await prepareReplay(lookups, ref, { ...valid, from_path: './docs//2024/', tag: 't' });
      expect(prepared.parent).toBe(parent);
      expect(prepared.execution).toEqual({
        config_id: CONFIG_ID,
        parent_execution_id: PARENT_ID,
        root_execution_id: ROOT_ID,
        replay_source: 'storage',
        from_stage: 'markdown_segmented',
        to_route: 'embedding_generator',
        from_path: 'docs/2024/',
        tag: 't',
        metadata: {},
        max_messages_per_second: null,
        reason: null,
      });
    }
  });

  it('keeps a selection on the execution only when it narrows the replay', async () => {
    const prepared = await prepareReplay(lookups, PARENT_ID, {
      ...valid,
      select: 'missing_outputs',
      modified_since: '2026-12-01T10:00:00Z',
    });
    expect(prepared.execution.selection).toEqual({
      select: 'missing_outputs',
      modified_since: '2026-12-01T10:00:00Z',
      modified_before: null,
      output_stage: 'embeddings',
      output_match: 'stem',
    });
    const all = await prepareReplay(lookups, PARENT_ID, { ...valid, select: 'all' });
    expect(all.execution).not.toHaveProperty('selection');
  });

  it('takes the routes of another config, the stage still from the parent', async () => {
    const prepared = await prepareReplay(lookups, PARENT_ID, {
      ...valid,
      to_route: 'embedding_generator_v2',
      config_id: OTHER_CONFIG_ID,
    });
    expect(prepared.execution.config_id).toBe(OTHER_CONFIG_ID);
  });

  it.each([
    [{}, 'nope', 404, 'EXECUTION_NOT_FOUND'],
    [{ config_id: '01936f8e-0000-7000-8000-00000000dead' }, PARENT_ID, 404, 'CONFIG_NOT_FOUND'],
    [{ to_route: 'nope' }, PARENT_ID, 400, 'INVALID_ROUTE'],
    [{ from_stage: 'nope', to_route: 'nope' }, PARENT_ID, 400, 'INVALID_ROUTE'],
    [{ from_stage: 'nope' }, PARENT_ID, 400, 'INVALID_STAGE'],
    [{ from_stage: 'markdown' }, PARENT_ID, 400, 'STAGE_ROUTE_MISMATCH'],
    [{ from_path: '../x' }, PARENT_ID, 400, 'INVALID_FROM_PATH'],
    [{ from_path: '../x' }, 'nope', 404, 'EXECUTION_NOT_FOUND'],
    [
      { modified_since: '2026-12-01T10:00:00Z', modified_before: '2026-12-01T10:00:00.000Z' },
      PARENT_ID,
      400,
      'INVALID_TIME_WINDOW',
    ],
    [
      { select: 'missing_outputs', to_route: 'indexer', config_id: OTHER_CONFIG_ID },
      PARENT_ID,
      400,
      'NO_OUTPUT_STAGE',
    ],
  ] as const)('%j of %s: %i %s', async (body, ref, status, code) => {
    const refusal = await refusalOf(body, ref);
    expect([refusal.status, refusal.errorCode]).toEqual([status, code]);
    expect(refusal.toJSON()).toEqual({ status, error_code: code, detail: refusal.detail });
  });

  it.each([undefined, null, '', './', './/.'])(
    'manual with from_path %j is a 422 at body.from_path',
    async (path) => {
      const refusal = await refusalOf({ replay_source: 'manual', from_path: path });
      expect(refusal.status).toBe(422);
      expect(refusal.validation).toEqual({ loc: ['body', 'from_path'], type: 'missing' });
    },
  );
});
