/**
 * `npm run screenshot [-- --out FILE]`: against a running `npm run dev`, starts a replay (a pipeline,
 * a tagged parent with a few hundred outputs in sub-folders, a paced replay) and, once it has
 * completed, takes a PNG of its page in the Temporal UI, on the User Metadata tab (static summary and
 * details, current details), with headless Chromium (Debian's `chromium`, or CHROMIUM_PATH): the
 * README's picture of what an operator sees. The replay is small enough to stay in one workflow run
 * (a run that continued as new has no static summary: Temporal does not carry it over).
 *
 * `--canary`: the replay also has a reason and a canary that nothing answers (no route consumer
 * runs), so the shot shows it paused by its canary, with the outputs counted, in its current details
 * (docs/images/replay-canary-paused-in-temporal-ui.png); the replay is cancelled after the shot.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import { Client } from '@temporalio/client';
import { ObjectStore } from '../adapters/object-store.ts';
import { connectTemporalClient, temporalSettingsFromEnv } from '../adapters/temporal-connection.ts';
import { stageFolder } from '../adapters/storage-paths.ts';
import { call, createApiClient, resolveApiTarget, stackFile } from '../cli/client.ts';
import { replayWorkflowId } from '../workflows/definitions.ts';
import { DEMO_PIPELINE, objectStoreOptionsOfStack } from './demo.ts';
import { sleep } from '../adapters/sleep.ts';

const imageFile = (name: string) => fileURLToPath(new URL(`../docs/images/${name}`, import.meta.url));
const OBJECTS = 600;
const FOLDERS = ['2024-11-28', '2024-11-29', '2024-11-30'];
/** Paced pages of RATE keys (one a second): 6 pages, one workflow run. */
const RATE = 100;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/**
 * A PNG of the page at `url`, 10 s after it was asked for, through Chromium's DevTools protocol on a
 * pipe (fds 3 and 4, NUL-terminated JSON). `chromium --screenshot` waits for the page to go quiet,
 * which the UI's page of a running workflow (polled for news) never does.
 */
async function screenshotOf(chromium: string, url: string): Promise<Buffer> {
  const profile = await mkdtemp(path.join(tmpdir(), 'replay-screenshot-'));
  const browser = spawn(
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
      '--remote-debugging-pipe',
      '--window-size=1600,1200',
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  let said = '';
  browser.stderr!.on('data', (chunk: Buffer) => (said = (said + chunk.toString()).slice(-2000)));
  const toBrowser = browser.stdio[3] as Writable;
  const fromBrowser = browser.stdio[4] as Readable;
  const waiting = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  let received = '';
  fromBrowser.on('data', (chunk: Buffer) => {
    received += chunk.toString();
    for (let end = received.indexOf('\0'); end >= 0; end = received.indexOf('\0')) {
      const message = JSON.parse(received.slice(0, end));
      received = received.slice(end + 1);
      const waiter = message.id === undefined ? undefined : waiting.get(message.id);
      if (!waiter) continue;
      waiting.delete(message.id);
      if (message.error) waiter.reject(new Error(`${JSON.stringify(message.error)}`));
      else waiter.resolve(message.result);
    }
  });
  const gone = new Promise<number | null>((resolve) => browser.on('exit', resolve));
  const exited = gone.then((code): never => {
    throw new Error(`Chromium exited (${code}): ${said}`);
  });
  exited.catch(() => {});
  let nextId = 0;
  const send = (method: string, params: object = {}, sessionId?: string): Promise<unknown> => {
    const id = ++nextId;
    const answer = new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
    toBrowser.write(`${JSON.stringify({ id, method, params, sessionId })}\0`);
    return Promise.race([answer, exited]);
  };
  try {
    const { targetInfos } = (await send('Target.getTargets')) as {
      targetInfos: { type: string; targetId: string }[];
    };
    const page = targetInfos.find((target) => target.type === 'page');
    if (!page) throw new Error(`Chromium has no page: ${said}`);
    const { sessionId } = (await send('Target.attachToTarget', {
      targetId: page.targetId,
      flatten: true,
    })) as {
      sessionId: string;
    };
    await send(
      'Emulation.setDeviceMetricsOverride',
      { width: 1600, height: 1200, deviceScaleFactor: 1, mobile: false },
      sessionId,
    );
    await send('Page.navigate', { url }, sessionId);
    // the UI is a single-page app: let it load and render the workflow before the shot
    await sleep(10_000);
    const { data } = (await send('Page.captureScreenshot', { format: 'png' }, sessionId)) as { data: string };
    return Buffer.from(data, 'base64');
  } finally {
    // its profile is written until it has exited
    browser.kill();
    await gone;
    await rm(profile, { recursive: true, force: true, maxRetries: 5 });
  }
}

async function main() {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, canary: { type: 'boolean', default: false } },
  });
  const canary = values.canary!;
  const out = path.resolve(
    values.out ?? imageFile(canary ? 'replay-canary-paused-in-temporal-ui.png' : 'replay-in-temporal-ui.png'),
  );
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
        ...(canary
          ? {
              reason: 'embedding model v2: check the first answers before the rest',
              canary: { messages: 20, within_seconds: 5, min_output_ratio: 0.9 },
            }
          : {}),
      },
    }),
  );
  log(`replay ${replay.id} started (${replay.tag})`);
  // the shot once it has completed (its current details final), or paused by its canary
  for (;;) {
    const { data: detail } = await call(
      target,
      api.GET('/api/v1/executions/{execution_id}', { params: { path: { execution_id: replay.id } } }),
    );
    if (canary ? detail.progress.paused_reason === 'canary' : detail.status !== 'running') break;
    if (canary && detail.status !== 'running') fail(`replay ${replay.id} is ${detail.status}, not paused`);
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
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, await screenshotOf(chromium, url));
  log(`${url}\n  -> ${out}`);
  if (canary) {
    await call(
      target,
      api.POST('/api/v1/executions/{execution_id}/cancel', {
        params: { path: { execution_id: replay.id } },
      }),
    );
    log(`replay ${replay.id} cancelled`);
  }
}

await main();
