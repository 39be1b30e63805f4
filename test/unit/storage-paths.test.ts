import { describe, expect, it } from 'vitest';
import { normaliseFromPath, selectsKey, stageFolder } from '../../adapters/storage-paths.ts';

describe('normaliseFromPath', () => {
  it.each([
    ['docs/2024/', 'docs/2024/'],
    ['docs/a.json', 'docs/a.json'],
    ['./docs//a.json', 'docs/a.json'],
    ['docs/./2024/', 'docs/2024/'],
    ['', ''],
    ['./', ''],
    ['100%25.json', '100%25.json'],
    ['dots..in..name.json', 'dots..in..name.json'],
  ])('accepts %j as %j', (input, expected) => {
    expect(normaliseFromPath(input)).toEqual({ ok: true, path: expected });
  });

  it.each([
    ['..', '..'],
    ['../other-execution/stage/', '..'],
    ['docs/../../x', '..'],
    ['%2e%2e/x', '..'],
    ['%2E%2E%2Fx', '..'],
    ['%252e%252e/x', '..'],
    ['docs/%2e%2e', '..'],
    ['\uff0e\uff0e/x', '..'],
    ['/etc/passwd', 'relative'],
    ['%2fetc', 'relative'],
    ['\uff0fetc', 'relative'],
    ['docs\\..\\x', 'backslash'],
    ['docs%5cx', 'backslash'],
    ['a\u0000b', 'NUL'],
    ['a%00b', 'NUL'],
    ['a\nb', 'control'],
    ['s3://bucket/key', 'URL'],
    ['x'.repeat(1025), 'at most'],
  ])('refuses %j (%s)', (input, reason) => {
    const result = normaliseFromPath(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });
});

describe('selectsKey', () => {
  it('selects a whole folder, one key, or everything', () => {
    expect(selectsKey('', 'a/b.json')).toBe(true);
    expect(selectsKey('docs/', 'docs/a.json')).toBe(true);
    expect(selectsKey('docs/', 'docs2/a.json')).toBe(false);
    expect(selectsKey('docs/a.json', 'docs/a.json')).toBe(true);
    expect(selectsKey('docs/a.json', 'docs/a.json.bak')).toBe(false);
    expect(selectsKey('docs', 'docs/a.json')).toBe(true);
    expect(selectsKey('docs', 'docs-old/a.json')).toBe(false);
  });

  it('builds stage folders from the execution id directly', () => {
    expect(stageFolder('outputs/', '0193', 'embeddings')).toBe('outputs/0193/embeddings/');
  });
});
