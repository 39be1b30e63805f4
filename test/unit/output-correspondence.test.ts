import { describe, expect, it } from 'vitest';
import { outputAnswersInput, withoutExtension } from '../../domain/output-correspondence.ts';

describe('output correspondence', () => {
  it('drops only the last segment extension', () => {
    expect(withoutExtension('docs/a.pdf')).toBe('docs/a');
    expect(withoutExtension('docs/a.tar.gz')).toBe('docs/a.tar');
    expect(withoutExtension('docs.v2/a')).toBe('docs.v2/a');
    expect(withoutExtension('docs/.env')).toBe('docs/.env');
  });

  it('stem: same stem with any extension, or a folder named by the stem', () => {
    expect(outputAnswersInput('stem', 'docs/a.pdf', 'docs/a.json')).toBe(true);
    expect(outputAnswersInput('stem', 'docs/a.pdf', 'docs/a')).toBe(true);
    expect(outputAnswersInput('stem', 'docs/a.pdf', 'docs/a/page-1.json')).toBe(true);
    expect(outputAnswersInput('stem', 'docs/a.pdf', 'docs/ab.json')).toBe(false);
    expect(outputAnswersInput('stem', 'docs/a.pdf', 'docs/a.b.json')).toBe(false);
    expect(outputAnswersInput('stem', 'docs/a.pdf', 'other/a.json')).toBe(false);
  });

  it('exact: the same relative path', () => {
    expect(outputAnswersInput('exact', 'docs/a.pdf', 'docs/a.pdf')).toBe(true);
    expect(outputAnswersInput('exact', 'docs/a.pdf', 'docs/a.json')).toBe(false);
  });
});
