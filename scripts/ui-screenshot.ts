/**
 * `npm run screenshot [-- --out FILE]`: against a running `npm run dev`, starts a replay (a pipeline,
 * a tagged parent with a few hundred outputs in sub-folders, a paced replay) and, once it has
 * completed, takes a PNG of its page in the Temporal UI, on the User Metadata tab (static summary and
 * details, current details), with headless Chromium (Debian's `chromium`, or CHROMIUM_PATH): the
 * README's picture of what an operator sees. The replay is small enough to stay in one workflow run
 * (a run that continued as new has no static summary: Temporal does not carry it over).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { ObjectStore } from '../adapters/object-store.ts';
import { connectTemporalClient, temporalSettingsFromEnv } from '../adapters/temporal-connection.ts';
import { stageFolder } from '../adapters/storage-paths.ts';
import { call, createApiClient, resolveApiTarget, stackFile } from '../cli/client.ts';
import { replayWorkflowId } from '../workflows/definitions.ts';
import { DEMO_PIPELINE, objectStoreOptionsOfStack } from './demo.ts';
import { sleep } from '../adapters/sleep.ts';

const DEFAULT_OUT = fileURLToPath(new URL('../docs/images/replay-in-temporal-ui.png', import.meta.url));
const OBJECTS = 600;
const FOLDERS = ['2024-11-28', '2024-11-29', '2024-11-30'];
/** Paced pages of RATE keys (one a second): 6 pages, one workflow run. */
const RATE = 100;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

async function main() {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const out = path.resolve(values.out ?? DEFAULT_OUT);
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromium))
    fail(`no Chromium at ${chromium}: apt-get update && apt-get install -y chromium (or set CHROMIUM_PATH)`);
  const file = stackFile();
  if (!existsSync(file)) fail(`no ${file}: start the stack first (npm run dev)`);
  const stack = JSON.parse(await readFile(file, 'utf8'));
  const target = await resolveApiTarget({});
  const api = createApiClient(target);
  const log = (line: string) => process.stdout.write(`${line}\n`);

  const suffix = Date.now().toString(36);
  const { data: config } = await call(target, api.POST('/api/v1/configs', { body: DEMO_PIPELINE }));
  const parentTag = `nightly-2024-11-30-${suffix}`;
  const { data: parent } = await call(
    target,
    api.POST('/api/v1/executions', {
      body: { config_id: config.id, tag: parentTag, metadata: { source: 'crawler' } },
    }),
  );
  const store = new ObjectStore(objectStoreOptionsOfStack(stack.s3));
  const folder = stageFolder(store.prefix, parent.id, 'markdown_segmented');
  let next = 0;
  const upload = async () => {
    while (next < OBJECTS) {
      const index = next++;
      const key = `${folder}docs/${FOLDERS[index % FOLDERS.length]}/segment-${String(index).padStart(4, '0')}.json`;
      await store.putObject(key, JSON.stringify({ segment: index, text: `Segment ${index}.` }));
    }
  };
  await Promise.all(Array.from({ length: 16 }, upload));
  store.close();
  log(`stored ${OBJECTS} outputs for ${parentTag} (${parent.id})`);

  const { data: replay } = await call(
    target,
    api.POST('/api/v1/executions/{execution_id}/replay', {
      params: { path: { execution_id: parentTag } },
      body: {
        replay_source: 'storage',
        from_stage: 'markdown_segmented',
        to_route: 'embedding_generator',
        from_path: 'docs/',
        tag: `reembed-2024-11-30-${suffix}`,
        metadata: { reason: 'embedding model v2' },
        max_messages_per_second: RATE,
      },
    }),
  );
  log(`replay ${replay.id} started (${replay.tag})`);
  // the shot once it has completed: its current details final
  for (;;) {
    const { data: detail } = await call(
      target,
      api.GET('/api/v1/executions/{execution_id}', { params: { path: { execution_id: replay.id } } }),
    );
    if (detail.status !== 'running') break;
    await sleep(250);
  }

  // the UI addresses a tab of one run
  const namespace = stack.temporal_namespace ?? 'default';
  const workflowId = replayWorkflowId(replay.id);
  const connection = await connectTemporalClient(
    temporalSettingsFromEnv({
      TEMPORAL_ADDRESS: stack.temporal_address,
      TEMPORAL_CONFIG_FILE: stack.temporal_config_file ?? undefined,
    }),
  );
  const { runId } = await new Client({ connection, namespace }).workflow.getHandle(workflowId).describe();
  await connection.close();
  const url = `${stack.temporal_ui_url}/namespaces/${namespace}/workflows/${workflowId}/${runId}/user-metadata`;
  const profile = await mkdtemp(path.join(tmpdir(), 'replay-screenshot-'));
  await mkdir(path.dirname(out), { recursive: true });
  try {
    await promisify(execFile)(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        `--screenshot=${out}`,
        '--window-size=1600,1200',
        // the UI is a single-page app: let it load and render the workflow before the shot
        '--virtual-time-budget=15000',
        url,
      ],
      { timeout: 120_000 },
    );
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
  log(`${url}\n  -> ${out}`);
}

await main();
