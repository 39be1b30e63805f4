import { getExecution, type ExecutionRecord } from '../../adapters/executions.ts';
import { stageFolder } from '../../adapters/storage-paths.ts';
import { EXAMPLE_PIPELINE } from '../../api/schemas.ts';
import type { TestStack } from './test-stack.ts';

export const DOCUMENTS_PIPELINE = EXAMPLE_PIPELINE;

export async function requestJson(
  stack: TestStack,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  // the stack's API key unless the test sends its own Authorization (or none: `authorization: ''`)
  const given = Object.keys(headers).some((name) => name.toLowerCase() === 'authorization');
  const withKey = given ? headers : { ...stack.authHeaders, ...headers };
  const sent = Object.fromEntries(
    Object.entries(withKey).filter(([name, value]) => name.toLowerCase() !== 'authorization' || value !== ''),
  );
  const response = await stack.app.request(path, {
    method,
    headers: body === undefined ? sent : { 'content-type': 'application/json', ...sent },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

export async function registerConfig(
  stack: TestStack,
  config: object = DOCUMENTS_PIPELINE,
): Promise<{ id: string }> {
  const response = await requestJson(stack, 'POST', '/api/v1/configs', config);
  if (response.status !== 201)
    throw new Error(`config not created: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

export async function createExecution(
  stack: TestStack,
  configId: string,
  extra: object = {},
): Promise<{ id: string }> {
  const response = await requestJson(stack, 'POST', '/api/v1/executions', { config_id: configId, ...extra });
  if (response.status !== 201)
    throw new Error(`execution not created: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/** Stores `count` outputs of `stage` for an execution, as its routes would have; returns their keys. */
export async function seedOutputs(
  stack: Pick<TestStack, 'objectStore'>,
  executionId: string,
  stage: string,
  count: number,
  options: { folder?: string; concurrency?: number } = {},
): Promise<string[]> {
  const base = stageFolder(stack.objectStore.prefix, executionId, stage) + (options.folder ?? '');
  const keys = Array.from(
    { length: count },
    (_, index) => `${base}doc-${String(index).padStart(6, '0')}.json`,
  );
  let next = 0;
  const uploader = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      await stack.objectStore.putObject(key, JSON.stringify({ key, text: `segment ${key}` }));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, uploader));
  return keys;
}

export async function waitForExecution(
  stack: TestStack,
  id: string,
  predicate: (record: ExecutionRecord) => boolean,
  timeoutMs = 90_000,
): Promise<ExecutionRecord> {
  const deadline = Date.now() + timeoutMs;
  let last: ExecutionRecord | undefined;
  while (Date.now() < deadline) {
    last = await getExecution(stack.pool, id);
    if (last && predicate(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`execution ${id} did not reach the expected state; last: ${JSON.stringify(last)}`);
}
