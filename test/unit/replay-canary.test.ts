import { describe, expect, it } from 'vitest';
import { canaryRatioReached, countAnsweredInputs } from '../../domain/replay-canary.ts';
import { outputAnswersInput } from '../../domain/output-correspondence.ts';

describe('countAnsweredInputs', () => {
  const inputs = ['a.md', 'b.md', 'reports/c.pdf', 'reports/d.pdf', 'e'];

  it('counts each input answered by at least one output, by stem', () => {
    const outputs = ['a.json', 'a.txt', 'reports/c/page-1.json', 'reports/c/page-2.json', 'e.json', 'x.json'];
    expect(countAnsweredInputs('stem', inputs, outputs)).toBe(3);
  });

  it('agrees with outputAnswersInput, one pair at a time', () => {
    const outputs = ['a.json', 'a.md.json', 'b', 'reports/d.pdf/x', 'reports.json', 'e/f/g.json', 'b.md'];
    const pairwise = inputs.filter((input) =>
      outputs.some((output) => outputAnswersInput('stem', input, output)),
    );
    expect(countAnsweredInputs('stem', inputs, outputs)).toBe(pairwise.length);
    const exact = inputs.filter((input) =>
      outputs.some((output) => outputAnswersInput('exact', input, output)),
    );
    expect(countAnsweredInputs('exact', inputs, outputs)).toBe(exact.length);
  });

  it('takes only the last extension away (a.emb.json answers a.emb, not a.json)', () => {
    expect(countAnsweredInputs('stem', ['a.json'], ['a.emb.json'])).toBe(0);
    expect(countAnsweredInputs('stem', ['a.emb.json'], ['a.emb.vec'])).toBe(1);
  });
});

describe('canaryRatioReached', () => {
  it('compares answered to published with the ratio', () => {
    expect(canaryRatioReached(9, 10, 0.9)).toBe(true);
    expect(canaryRatioReached(8, 10, 0.9)).toBe(false);
    expect(canaryRatioReached(10, 10, 1)).toBe(true);
    expect(canaryRatioReached(0, 0, 1)).toBe(true);
  });
});
