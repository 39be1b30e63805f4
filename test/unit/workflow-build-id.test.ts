/** The workflow bundle's build id names its code, wherever it was built (adapters/workflow-bundle.ts). */
import { describe, expect, it } from 'vitest';
import { workflowBuildId } from '../../adapters/workflow-bundle.ts';

const map = (folder: string) =>
  `\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(`{"sources":["${folder}/workflows/index.ts"]}`).toString('base64')}`;

describe('workflowBuildId', () => {
  it('is 16 hex digits of the code, the same from any checkout, another for other code', () => {
    const code = 'const replay = 1;';
    const id = workflowBuildId({ code: code + map('/app') });
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(workflowBuildId({ code: code + map('/home/someone/execution-replay') })).toBe(id);
    expect(workflowBuildId({ code })).toBe(id);
    expect(workflowBuildId({ code: 'const replay = 2;' + map('/app') })).not.toBe(id);
  });
});
