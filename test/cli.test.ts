/**
 * The operator CLI (`npm run replay -- <command>`) against a real `npm run dev`: one dev stack on
 * free ports and a fresh data dir for the whole file. Most commands run in-process (runCli, the
 * same code `npm run replay` runs, over real HTTP to the dev api) to keep the file fast; the npm
 * script itself is run once per kind of output.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectStore } from '../adapters/object-store.ts';
import { stageFolder } from '../adapters/storage-paths.ts';
import { runCli } from '../cli/replay.ts';
import { objectStoreOptionsOfStack } from '../scripts/demo.ts';
import { DOCUMENTS_PIPELINE } from './support/fixtures.ts';
import {
  devStackPlace,
  disposeDev,
  readStackJson,
  startDev,
  type DevProcess,
} from './support/dev-process.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const STAGE = 'markdown_segmented';
const ROUTE = 'embedding_generator';
const ROUTE_FLAGS = ['--from-stage', STAGE, '--to-route', ROUTE];

let dataDir: string;
let dev: DevProcess | undefined;
let stack: any;
/** The CLI's environment: only the dev stack's data dir, so the api and key come from stack.json. */
let env: NodeJS.ProcessEnv;
let parentTag: string;
let parentId: string;
const OBJECTS = 120;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout's lines as JSON (with --json). */
  lines: any[];
}

function collector() {
  let text = '';
  return {
    stream: {
      write: (chunk: string | Uint8Array) => ((text += chunk.toString()), true),
    } as NodeJS.WritableStream,
    text: () => text,
  };
}

async function cli(...args: string[]): Promise<Ran> {
  const stdout = collector();
  const stderr = collector();
  const code = await runCli(args, { json: false, stdout: stdout.stream, stderr: stderr.stream }, env);
  const lines = args.includes('--json')
    ? stdout
        .text()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line))
    : [];
  return { code, stdout: stdout.text(), stderr: stderr.text(), lines };
}

async function api(method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${stack.api_url}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.api_key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text);
}

async function seed(executionId: string, relativeKeys: string[]) {
  const store = new ObjectStore(objectStoreOptionsOfStack(stack.s3));
  const folder = stageFolder(store.prefix, executionId, STAGE);
  let next = 0;
  const upload = async () => {
    while (next < relativeKeys.length) {
      const key = folder + relativeKeys[next++]!;
      await store.putObject(key, JSON.stringify({ key }));
    }
  };
  await Promise.all(Array.from({ length: 16 }, upload));
  store.close();
}

const keys = (count: number, folders = 3) =>
  Array.from(
    { length: count },
    (_, index) => `part-${index % folders}/doc-${String(index).padStart(4, '0')}.json`,
  );

beforeAll(async () => {
  const place = await devStackPlace();
  dataDir = place.dataDir;
  // small pages, and previews past 50 keys continue as jobs: both paths show in a small stack; the
  // first starts of a fresh stack on a shared machine may take longer than the default 3 s
  dev = startDev(dataDir, place.ports, {
    REPLAY_PAGE_SIZE: '10',
    PREVIEW_INLINE_MAX_KEYS: '50',
    DEPENDENCY_TIMEOUT_MS: '10000',
  });
  stack = await readStackJson(dev, dataDir);
  env = { DEV_DATA_DIR: dataDir, PATH: process.env.PATH };
  const config = await api('POST', '/api/v1/configs', DOCUMENTS_PIPELINE);
  parentTag = `cli-parent-${Date.now()}`;
  parentId = (await api('POST', '/api/v1/executions', { config_id: config.id, tag: parentTag })).id;
  await seed(parentId, keys(OBJECTS));
}, 240_000);

afterAll(() => disposeDev(dev, dataDir), 90_000);

describe('start and status', () => {
  it('start --follow --json: the new execution, then one progress line per poll until completed', async () => {
    const ran = await cli(
      'start',
      parentTag,
      ...ROUTE_FLAGS,
      '--tag',
      'cli-first',
      '--follow',
      '--json',
      '--interval',
      '200',
    );
    expect(ran.code, ran.stderr).toBe(0);
    const [started, ...progress] = ran.lines;
    expect(started).toMatchObject({ tag: 'cli-first', status: 'running', parent_execution_id: parentId });
    const last = progress.at(-1);
    expect(last).toMatchObject({
      id: started.id,
      status: 'completed',
      progress: { published: OBJECTS, listed: OBJECTS },
    });
    for (const line of progress) {
      expect(line.follow).toEqual({
        messages_per_second: expect.any(Number),
        total: expect.toBeOneOf([null, OBJECTS]),
        eta_seconds: expect.toBeOneOf([null, expect.any(Number)]),
      });
    }
  });

  it('start --follow draws the progress bar (published/listed, messages/s, ETA) and ends with the execution', async () => {
    const ran = await cli(
      'start',
      parentId,
      ...ROUTE_FLAGS,
      '--from-path',
      'part-1/',
      '--follow',
      '--interval',
      '200',
    );
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/^started replay \S+ of \S+: running$/m);
    // without a terminal the bar is a plain line per update
    expect(ran.stderr).toMatch(/\|\s*\d+\/\d+ published \| listed \d+ \| \d+ msg\/s \| ETA \S+/);
    expect(ran.stdout).toMatch(/: completed\n/);
    expect(ran.stdout).toContain(`published 40, listed 40`);
  });

  it('status, status --json and status --follow of a finished replay', async () => {
    const human = await cli('status', 'cli-first');
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`(cli-first): completed`);
    expect(human.stdout).toContain(`${STAGE} -> ${ROUTE}, replay of ${parentId} (storage)`);
    const json = await cli('status', 'cli-first', '--json');
    expect(json.lines).toHaveLength(1);
    expect(json.lines[0]).toMatchObject({
      tag: 'cli-first',
      status: 'completed',
      progress: { published: OBJECTS },
    });
    const followed = await cli('status', 'cli-first', '--follow', '--json');
    expect(followed.code).toBe(0);
    expect(followed.lines.at(-1)).toMatchObject({ status: 'completed', follow: { eta_seconds: 0 } });
  });
});

describe('selection', () => {
  it('start with --select and a window; status shows what it selects; a bad --select exits 2', async () => {
    const since = '2099-01-01T00:00:00Z';
    const started = await cli(
      'start',
      parentTag,
      ...ROUTE_FLAGS,
      '--select',
      'all',
      '--modified-since',
      since,
      '--follow',
      '--json',
    );
    expect(started.code, started.stderr).toBe(0);
    expect(started.lines[0]).toMatchObject({ selection: { select: 'all', modified_since: since } });
    expect(started.lines.at(-1)).toMatchObject({ status: 'completed', progress: { published: 0 } });
    const status = await cli('status', started.lines[0].id);
    expect(status.stdout).toContain(`selects modified in [${since}, -)`);
    const preview = await cli('preview', parentTag, ...ROUTE_FLAGS, '--modified-before', since, '--json');
    expect(preview.lines.at(-1)).toMatchObject({ count: OBJECTS, selection: { modified_before: since } });
    const bad = await cli('start', parentTag, ...ROUTE_FLAGS, '--select', 'some');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--select must be all or missing_outputs');
  });
});

describe('who asked and why', () => {
  it('start --reason; status shows who and why; replays lists them newest first', async () => {
    const first = await cli('start', parentTag, ...ROUTE_FLAGS, '--reason', 'cli reason one', '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(first.lines[0]).toMatchObject({ reason: 'cli reason one', requested_by: expect.any(String) });
    const keyName = first.lines[0].requested_by;
    const status = await cli('status', first.lines[0].id);
    expect(status.stdout).toContain(`requested by ${keyName}: cli reason one`);
    const second = await cli('start', parentTag, ...ROUTE_FLAGS, '--json');
    expect(second.code, second.stderr).toBe(0);
    const listed = await cli('replays', parentTag, '--json');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.lines.slice(0, 2).map((line) => [line.id, line.reason])).toEqual([
      [second.lines[0].id, null],
      [first.lines[0].id, 'cli reason one'],
    ]);
    const human = await cli('replays', parentTag);
    expect(human.stdout).toContain(`${first.lines[0].id}  `);
    expect(human.stdout).toContain(`  ${keyName}  `);
    expect(human.stdout).toContain('  cli reason one\n');
  });
});

describe('pause, rate, resume and cancel', () => {
  it('start with a canary that nothing answers: status says it paused itself, and why', async () => {
    const started = await cli(
      'start',
      parentTag,
      ...ROUTE_FLAGS,
      '--canary-messages',
      '2',
      '--canary-within',
      '1',
      '--canary-min-ratio',
      '0.5',
      '--json',
    );
    expect(started.code, started.stderr).toBe(0);
    const id = started.lines[0].id;
    let status = await cli('status', id);
    for (let tries = 0; tries < 100 && !status.stdout.includes('paused (canary)'); tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = await cli('status', id);
    }
    expect(status.stdout).toContain('published 2, listed 2, paused (canary)');
    expect(status.stdout).toContain(
      'canary failed: 0 of 2 published messages answered (2 messages, at least 0.5 within 1 s)',
    );
    expect((await cli('cancel', id)).code).toBe(0);
    const partial = await cli('start', parentTag, ...ROUTE_FLAGS, '--canary-messages', '2');
    expect(partial.code).toBe(2);
    expect(partial.stderr).toContain('--canary-messages, --canary-within and --canary-min-ratio go together');
  });

  it('steer a running replay', async () => {
    // 5 messages/s: 120 objects would take 24 s
    const started = await cli('start', parentTag, ...ROUTE_FLAGS, '--max-rate', '5', '--json');
    expect(started.code, started.stderr).toBe(0);
    const id = started.lines[0].id;

    const paused = await cli('pause', id);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/^paused: \S+: running\n/);
    expect(paused.stdout).toContain(', paused (operator), at most 5 messages/s');
    let detail = (await cli('status', id, '--json')).lines[0];
    expect(detail).toMatchObject({
      status: 'running',
      progress: { paused: true },
      max_messages_per_second: 5,
    });
    // nothing is published while paused
    const published = detail.progress.published;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await cli('status', id, '--json')).lines[0].progress.published).toBe(published);

    const faster = await cli('rate', id, '50', '--json');
    expect(faster.code, faster.stderr).toBe(0);
    expect(faster.lines[0]).toMatchObject({ id, max_messages_per_second: 50 });
    const lifted = await cli('rate', id, 'none');
    expect(lifted.code, lifted.stderr).toBe(0);
    expect(lifted.stdout).toMatch(/^rate unlimited: /);
    detail = (await cli('status', id, '--json')).lines[0];
    expect(detail.max_messages_per_second).toBeNull();
    await cli('rate', id, '5');

    const resumed = await cli('resume', id, '--json');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.lines[0]).toMatchObject({ id, status: 'running' });
    for (let tries = 0; (await cli('status', id, '--json')).lines[0].progress.paused; tries += 1) {
      expect(tries).toBeLessThan(50);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    const cancelled = await cli('cancel', id);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toMatch(/^cancel: \S+: cancelled/);
    const followed = await cli('status', id, '--follow', '--json');
    expect(followed.code).toBe(1);
    expect(followed.lines.at(-1)).toMatchObject({ status: 'cancelled' });
  });

  it('steer a running bulk replay', async () => {
    const started = await cli(
      'bulk',
      'start',
      '--executions',
      parentTag,
      ...ROUTE_FLAGS,
      '--max-rate',
      '5',
      '--json',
    );
    expect(started.code, started.stderr).toBe(0);
    const id = started.lines[0].id;
    for (const action of ['pause', 'resume', 'cancel']) {
      const ran = await cli('bulk', action, id, '--json');
      expect(ran.code, `${action}: ${ran.stderr}`).toBe(0);
      expect(ran.lines[0]).toMatchObject({ id });
    }
    const done = await cli('bulk', 'status', id, '--follow', '--json', '--interval', '200');
    expect(done.code).toBe(1);
    expect(done.lines.at(-1)).toMatchObject({ id, status: 'cancelled' });
  });
});

describe('preview', () => {
  it('answers at once for a small listing, and waits for the preview job of a larger one', async () => {
    const small = await cli(
      'preview',
      parentTag,
      ...ROUTE_FLAGS,
      '--from-path',
      'part-2/doc-0002.json',
      '--json',
    );
    expect(small.code, small.stderr).toBe(0);
    expect(small.lines).toEqual([expect.objectContaining({ id: null, status: 'completed', count: 1 })]);

    const large = await cli('preview', parentTag, ...ROUTE_FLAGS, '--json', '--interval', '200');
    expect(large.code, large.stderr).toBe(0);
    // the job's counts while it runs, then its final answer
    expect(large.lines[0]).toMatchObject({ status: 'running', id: expect.any(String) });
    expect(large.lines.at(-1)).toMatchObject({ status: 'completed', count: OBJECTS, id: large.lines[0].id });

    const human = await cli('preview', parentTag, ...ROUTE_FLAGS);
    expect(human.stdout).toContain(`${OBJECTS} messages`);
    expect(human.stdout).toMatch(/part-0\/\s+40/);
    expect(human.stdout).toContain(`route ${ROUTE} (${STAGE} -> embeddings)`);
    expect(human.stdout).toMatch(/estimate \S+ at 10,000 messages\/s \(default\)/);
  });
});

describe('errors', () => {
  it("print the api's detail and exit 1", async () => {
    const unknown = await cli('status', 'no-such-execution');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('error: Execution not found (EXECUTION_NOT_FOUND, HTTP 404)\n');

    const badRoute = await cli('start', parentTag, '--from-stage', STAGE, '--to-route', 'nope', '--json');
    expect(badRoute.code).toBe(1);
    expect(badRoute.stderr).toMatch(
      /^error: Route 'nope' is not a route of config .* \(INVALID_ROUTE, HTTP 400\)\n$/,
    );
    expect(badRoute.lines).toEqual([
      { error: expect.objectContaining({ status: 400, error_code: 'INVALID_ROUTE' }) },
    ]);

    const manual = await cli('preview', parentTag, ...ROUTE_FLAGS, '--source', 'manual');
    expect(manual.code).toBe(1);
    expect(manual.stderr).toContain(
      "body.from_path: Field required when replay_source is 'manual' (HTTP 422)",
    );

    const finished = await cli('cancel', 'cli-first');
    expect(finished.code).toBe(1);
    expect(finished.stderr).toMatch(/is already completed \(EXECUTION_FINISHED, HTTP 409\)/);
    const notInterrupted = await cli('resume', 'cli-first');
    expect(notInterrupted.code).toBe(1);
    expect(notInterrupted.stderr).toContain('EXECUTION_NOT_INTERRUPTED');
  });

  it('a bad command line exits 2 with the usage; an unreachable api names where its address came from', async () => {
    for (const args of [['nope'], ['start'], ['rate', 'x', 'fast'], ['status', 'a', '--bogus'], []]) {
      const ran = await cli(...args);
      expect(ran.code, args.join(' ')).toBe(2);
      expect(ran.stderr).toContain('usage: npm run replay');
    }
    const down = await cli('status', 'x', '--api-url', 'http://127.0.0.1:1');
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^error: cannot reach the api at http:\/\/127\.0\.0\.1:1 \(from --api-url\)/);
    const fromEnv = await runCli(
      ['status', 'x'],
      { json: false, stdout: collector().stream, stderr: collector().stream },
      {
        REPLAY_API_URL: 'http://127.0.0.1:1',
      },
    );
    expect(fromEnv).toBe(1);
    const noKey = await cli('status', 'cli-first', '--api-key', 'er_wrong');
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain('UNAUTHORIZED, HTTP 401');
  });
});

describe('bulk', () => {
  it('start --follow, status, items, and cancel of a finished one', async () => {
    const second = await api('POST', '/api/v1/executions', {
      config_id: (await api('GET', `/api/v1/executions/${parentId}`)).config_id,
    });
    await seed(second.id, keys(15));
    const ran = await cli(
      'bulk',
      'start',
      '--executions',
      `${parentTag},${second.id},no-such-tag`,
      ...ROUTE_FLAGS,
      '--max-concurrent',
      '2',
      '--follow',
      '--json',
      '--interval',
      '200',
    );
    expect(ran.code, ran.stderr).toBe(1);
    const [started] = ran.lines;
    expect(started).toMatchObject({ status: 'running', total: 3 });
    // a bad parent fails its own child: the bulk replay completes, and the CLI says one failed
    expect(ran.lines.at(-1)).toMatchObject({ id: started.id, status: 'completed', completed: 2, failed: 1 });

    const status = await cli('bulk', 'status', started.id);
    expect(status.stdout).toBe(
      `bulk replay ${started.id}: completed, 3 parents: started 2, completed 2, failed 1, cancelled 0\n`,
    );
    const items = await cli('bulk', 'items', started.id, '--json');
    expect(items.lines.map((item) => [item.position, item.parent, item.status])).toEqual([
      [0, parentTag, 'completed'],
      [1, second.id, 'completed'],
      [2, 'no-such-tag', 'failed'],
    ]);
    const cancel = await cli('bulk', 'cancel', started.id);
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toContain('BULK_REPLAY_FINISHED');
  });

  it('start passes the selection and reason to each child; status shows them', async () => {
    const before = '2099-01-01T00:00:00Z';
    const ran = await cli(
      'bulk',
      'start',
      '--executions',
      parentTag,
      ...ROUTE_FLAGS,
      '--select',
      'missing_outputs',
      '--modified-before',
      before,
      '--reason',
      're-embed what has no embedding',
      '--follow',
      '--json',
      '--interval',
      '200',
    );
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.lines.at(-1)).toMatchObject({ status: 'completed', completed: 1 });
    const items = await cli('bulk', 'items', ran.lines[0].id, '--json');
    const child = items.lines[0].execution_id as string;
    const status = await cli('status', child, '--json');
    // the parent has no embeddings yet: every object is missing its output
    expect(status.lines[0]).toMatchObject({
      status: 'completed',
      reason: 're-embed what has no embedding',
      selection: { select: 'missing_outputs', output_stage: 'embeddings', modified_before: before },
      progress: { published: OBJECTS },
    });
    const text = await cli('status', child);
    expect(text.stdout).toContain(
      `selects only objects without an output in embeddings (stem), modified in [-, ${before})`,
    );
  });
});

describe('npm run replay', () => {
  it('runs the CLI from the dev stack’s stack.json; -s keeps stdout to the JSON lines', async () => {
    const { stdout } = await promisify(execFile)(
      'npm',
      ['run', '-s', 'replay', '--', 'status', 'cli-first', '--json'],
      {
        cwd: root,
        env: { ...process.env, DEV_DATA_DIR: dataDir },
      },
    );
    expect(JSON.parse(stdout)).toMatchObject({ tag: 'cli-first', status: 'completed' });
    const failed = await promisify(execFile)('npm', ['run', '-s', 'replay', '--', 'status', 'nope'], {
      cwd: root,
      env: { ...process.env, DEV_DATA_DIR: dataDir },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(failed).toMatchObject({ code: 1, stderr: expect.stringContaining('error: Execution not found') });
  });
});
