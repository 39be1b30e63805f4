/** The CLI's generated api types are what docs/openapi.json generates (`npm run openapi` rewrites both). */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { generatedApiTypes, TYPES_FILE } from '../../scripts/openapi-types.ts';

describe('cli/api-types.ts', () => {
  it('is generated from the committed OpenAPI document', async () => {
    const committed = await readFile(TYPES_FILE, 'utf8');
    expect(
      committed === (await generatedApiTypes()),
      'cli/api-types.ts is stale: run `npm run openapi`',
    ).toBe(true);
  });
});
