/** The harness is real: a Temporal server, workers, Postgres and an S3 API, no mocks. */
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACT_RESPONSE_KEYS } from './support/contract.ts';
import { createTestStack, type TestStack } from './support/test-stack.ts';
import { createSmokeActivities } from './smoke/smoke-activities.ts';
import { proceedSignal, type smokeWorkflow } from './smoke/smoke-workflows.ts';

let stack: TestStack;
let connection: NativeConnection;
let workflowBundle: { code: string };
const taskQueue = `smoke-${process.pid}`;

beforeAll(async () => {
  stack = await createTestStack();
  connection = await NativeConnection.connect({ address: stack.config.TEMPORAL_ADDRESS });
  workflowBundle = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('./smoke/smoke-workflows.ts', import.meta.url)),
    logger: { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} },
  });
});
afterAll(async () => {
  await connection?.close();
  await stack?.close();
});

async function startSmokeWorker(workerName: string) {
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle,
    activities: createSmokeActivities({ pool: stack.pool, objectStore: stack.objectStore, workerName }),
  });
  return { worker, running: worker.run() };
}

describe('the test stack is real', () => {
  it('runs a workflow whose activities write to Postgres and S3, on a second worker after the first stops', async () => {
    const first = await startSmokeWorker('worker-a');
    const handle = await stack.temporal.workflow.start<typeof smokeWorkflow>('smokeWorkflow', {
      taskQueue,
      workflowId: `smoke-${Date.now()}`,
      args: ['marker'],
    });
    // wait until the first activity has run on worker A
    await expect
      .poll(
        async () =>
          (
            await stack.pool
              .query("SELECT worker FROM smoke_markers WHERE name = 'marker-1'")
              .catch(() => ({ rows: [] }))
          ).rows,
        {
          timeout: 30_000,
        },
      )
      .toEqual([{ worker: 'worker-a' }]);
    first.worker.shutdown();
    await first.running;

    const second = await startSmokeWorker('worker-b');
    await handle.signal(proceedSignal);
    expect(await handle.result()).toEqual(['worker-a', 'worker-b']);
    second.worker.shutdown();
    await second.running;

    const rows = await stack.pool.query('SELECT name, worker FROM smoke_markers ORDER BY name');
    expect(rows.rows).toEqual([
      { name: 'marker-1', worker: 'worker-a' },
      { name: 'marker-2', worker: 'worker-b' },
    ]);
    const listed = await stack.objectStore.listPage(`${stack.objectStore.prefix}smoke/`, null, 10);
    expect(listed.objects.map((object) => object.key)).toEqual([
      `${stack.objectStore.prefix}smoke/marker-1.json`,
      `${stack.objectStore.prefix}smoke/marker-2.json`,
    ]);
    const history = await handle.fetchHistory();
    expect(history.events?.length).toBeGreaterThan(5);
  });

  it('answers /healthz and /readyz with every component ok', async () => {
    expect((await stack.app.request('/healthz')).status).toBe(200);
    const ready = await stack.app.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ok',
      components: { temporal: { status: 'ok' }, postgres: { status: 'ok' }, s3: { status: 'ok' } },
    });
  });

  it('serves an OpenAPI 3.1 document generated from the schemas, and the docs page', async () => {
    const document: any = await (await stack.app.request('/openapi.json')).json();
    expect(document.openapi).toBe('3.1.0');
    const operation = document.paths['/api/v1/executions/{execution_id}/replay'].post;
    expect(operation.summary).toBe('Replay Execution');
    // the contract's statuses, and those of authentication and the limits (declared on each operation)
    expect(Object.keys(operation.responses).sort()).toEqual(
      ['200', '400', '404', '409', '422', '503', '401', '403', '413', '415', '429'].sort(),
    );
    const schemas = document.components.schemas;
    expect(Object.keys(schemas.ExecutionResponse.properties).sort()).toEqual(CONTRACT_RESPONSE_KEYS);
    expect(schemas.ExecutionReplayRequest.required.sort()).toEqual([
      'from_stage',
      'replay_source',
      'to_route',
    ]);
    expect(schemas.ExecutionReplayRequest.properties.replay_source.enum).toEqual([
      'storage',
      'lineage',
      'manual',
    ]);
    expect(schemas.ErrorResponse.required.sort()).toEqual(['detail', 'timestamp']);
    expect(schemas.HTTPValidationError).toBeDefined();
    const docs = await stack.app.request('/docs');
    expect(docs.status).toBe(200);
    // the page's own start script (a file: its content security policy refuses inline scripts) loads the document
    const start = (await docs.text()).match(/<script src="([^"]+)"><\/script>\s*<\/body>/)?.[1];
    expect(start).toBeDefined();
    expect(await (await stack.app.request(start!)).text()).toContain('/openapi.json');
  });
});
