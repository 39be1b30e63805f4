/**
 * `npm run openapi`: rewrites docs/openapi.json, the snapshot of the document the api serves at
 * /openapi.json with the default settings (keys required, health endpoints open, default limits).
 * test/unit/openapi-document.test.ts fails when the served document and the snapshot differ, so a
 * change to the contract is always a deliberate change to this file too.
 */
import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseConfig } from '../adapters/config.ts';
import { createLogger } from '../adapters/logger.ts';
import { createApiServer, type ApiServer } from '../api/server.ts';

export const SNAPSHOT_FILE = new URL('../docs/openapi.json', import.meta.url);

// the AWS SDK's notice that its 2027 releases need Node 22 is noise here
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * An api with the default settings (or these variables over them) whose dependencies are nowhere:
 * it connects lazily, so it serves what needs none (its document, refusals before any lookup) and
 * answers 503 for the rest. Port 1 refuses at once.
 */
export function offlineApiServer(env: Record<string, string> = {}): ApiServer {
  const config = parseConfig({
    DATABASE_URL: 'postgres://replay@127.0.0.1:1/unused',
    S3_BUCKET: 'unused',
    S3_ENDPOINT: 'http://127.0.0.1:1',
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    API_KEYS: `snapshot:${'0'.repeat(64)}`,
    ...env,
  });
  return createApiServer(config, { logger: createLogger('silent') });
}

/** The document the api serves, as JSON text (two-space indents, a final newline). */
export async function servedOpenApiDocument(): Promise<string> {
  const server = offlineApiServer();
  try {
    const response = await server.app.request('/openapi.json');
    return `${JSON.stringify(await response.json(), null, 2)}\n`;
  } finally {
    await server.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await writeFile(SNAPSHOT_FILE, await servedOpenApiDocument());
  process.stdout.write(`wrote ${SNAPSHOT_FILE.pathname}\n`);
}
