import { describe, expect, it } from 'vitest';
import { compareKeys } from '../../domain/key-order.ts';
import { outputAnswersInput, type OutputMatchRule } from '../../domain/output-correspondence.ts';
import { listingFrom, MissingOutputs, type OutputStore } from '../../services/missing-outputs.ts';

const FOLDER = 'p/parent/out/';

/** A listing in S3's order (UTF-8 bytes), with StartAfter and MaxKeys, counting its calls. */
function memoryStore(relativeKeys: string[], pageKeys = 1000): OutputStore & { calls: number } {
  const keys = relativeKeys.map((key) => FOLDER + key).sort(compareKeys);
  const store = {
    calls: 0,
    async listPage(prefix: string, startAfter: string | null, maxKeys: number) {
      store.calls += 1;
      const after = keys.filter(
        (key) => key.startsWith(prefix) && (startAfter === null || compareKeys(key, startAfter) > 0),
      );
      const page = after.slice(0, Math.min(maxKeys, pageKeys));
      return {
        objects: page.map((key) => ({ key, size: 1, etag: 'e', last_modified: '2026-01-01T00:00:00Z' })),
        lastKey: page.at(-1) ?? null,
        isTruncated: after.length > page.length,
      };
    },
  };
  return store;
}

/** The merge's answer over inputs cut into batches of `batch`, in key order. */
async function missing(
  inputs: string[],
  outputs: string[],
  rule: OutputMatchRule = 'stem',
  batch = 1000,
  pageKeys = 1000,
): Promise<string[]> {
  const sorted = [...inputs].sort(compareKeys);
  const merge = new MissingOutputs(memoryStore(outputs, pageKeys), FOLDER, rule);
  const result: string[] = [];
  for (let start = 0; start < sorted.length; start += batch) {
    const part = sorted.slice(start, start + batch);
    const answered = await merge.answered(part);
    part.forEach((input, index) => {
      if (!answered[index]) result.push(input);
    });
  }
  return result;
}

/** The same by brute force over every pair: what the rule says. */
function bruteForce(inputs: string[], outputs: string[], rule: OutputMatchRule = 'stem'): string[] {
  return [...inputs]
    .sort(compareKeys)
    .filter((input) => !outputs.some((output) => outputAnswersInput(rule, input, output)));
}

describe('missing outputs: one merge of two listings', () => {
  it('answers the orderings where a stem range holds another (a-b before a., a/ after a.)', async () => {
    const inputs = ['a.pdf', 'a-b.pdf', 'a/b.pdf'];
    const outputs = ['a.json', 'a/b.json', 'a-b/page.json'];
    for (const batch of [1, 2, 3]) expect(await missing(inputs, outputs, 'stem', batch)).toEqual([]);
    // without a.json, a.pdf is still answered by the folder a/
    expect(await missing(inputs, ['a/b.json', 'a-b/page.json'], 'stem', 1)).toEqual([]);
    // without a/b.json, a/b.pdf is missing and a.pdf is answered by a.json only
    for (const batch of [1, 2, 3])
      expect(await missing(inputs, ['a.json', 'a-b/page.json'], 'stem', batch)).toEqual(['a/b.pdf']);
    // a-b/page.json answers a-b.pdf, never a.pdf
    for (const batch of [1, 2, 3])
      expect(await missing(inputs, ['a-b/page.json'], 'stem', batch)).toEqual(['a.pdf', 'a/b.pdf']);
  });

  it('answers stems that are prefixes of earlier inputs (a.b.pdf before a.c)', async () => {
    const inputs = ['a.b.pdf', 'a.c', 'a.b', 'a!x.pdf'];
    const outputs = ['a.a', 'a.b.json', 'a!x/1.json', 'a.b/z.json'];
    for (const batch of [1, 2, 3, 4])
      expect(await missing(inputs, outputs, 'stem', batch, 1)).toEqual(bruteForce(inputs, outputs));
  });

  it('agrees with the rule on random key sets, any batch and listing page size', async () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const alphabet = ['a', 'b', '-', '.', '/', 'é', '!', '0'];
    const key = () => {
      let text = alphabet[Math.floor(random() * 2)]!;
      const length = 1 + Math.floor(random() * 5);
      for (let index = 0; index < length; index += 1)
        text += alphabet[Math.floor(random() * alphabet.length)];
      return text.replace(/\/+/g, '/').replace(/\/$/, 'x');
    };
    for (let round = 0; round < 150; round += 1) {
      const inputs = [...new Set(Array.from({ length: 30 }, key))];
      const outputs = [...new Set(Array.from({ length: 30 }, key))];
      for (const rule of ['stem', 'exact'] as const) {
        const batch = 1 + Math.floor(random() * 7);
        const pageKeys = 1 + Math.floor(random() * 5);
        expect(
          await missing(inputs, outputs, rule, batch, pageKeys),
          `${rule} ${inputs} | ${outputs}`,
        ).toEqual(bruteForce(inputs, outputs, rule));
      }
    }
  });

  it('exact: the same relative path only', async () => {
    expect(await missing(['a.pdf', 'b.pdf'], ['a.pdf', 'b.json'], 'exact')).toEqual(['b.pdf']);
  });

  it('reads the outputs once when inputs and outputs go side by side', async () => {
    const inputs = Array.from({ length: 3000 }, (_, index) => `doc-${String(index).padStart(5, '0')}.pdf`);
    const outputs = inputs.flatMap((input, index) =>
      index % 3 === 0
        ? []
        : index % 3 === 1
          ? [input.replace('.pdf', '.json')]
          : [input.replace('.pdf', '/part-1.json')],
    );
    const store = memoryStore(outputs);
    const merge = new MissingOutputs(store, FOLDER, 'stem');
    const result: string[] = [];
    for (let start = 0; start < inputs.length; start += 500) {
      const part = inputs.slice(start, start + 500);
      const answered = await merge.answered(part);
      part.forEach((input, index) => answered[index] || result.push(input));
    }
    expect(result).toEqual(bruteForce(inputs, outputs));
    // 2,000 outputs, 1,000 a call: a few calls, not one per batch start again
    expect(store.calls).toBeLessThanOrEqual(4);
  });

  it('asks for the next output page as soon as a page comes back truncated, and uses it', async () => {
    const inputs = Array.from({ length: 500 }, (_, index) => `doc-${String(index).padStart(5, '0')}.pdf`);
    const outputs = inputs
      .filter((_, index) => index % 2 === 0)
      .map((input) => input.replace('.pdf', '.json'));
    const store = memoryStore(outputs, 100);
    const merge = new MissingOutputs(store, FOLDER, 'stem');
    // the first 50 inputs are answered by the first page (100 outputs): the second is already asked for
    const first = await merge.answered(inputs.slice(0, 50));
    expect(store.calls).toBe(2);
    const rest = await merge.answered(inputs.slice(50));
    const result = inputs.filter((_, index) => !(index < 50 ? first[index] : rest[index - 50]));
    expect(result).toEqual(bruteForce(inputs, outputs));
    // 250 outputs, 100 a call: each page listed once, the one asked ahead included
    expect(store.calls).toBe(3);
  });

  it('lists from a key on, that key included', () => {
    expect(listingFrom('')).toBeNull();
    expect(compareKeys(listingFrom('ab')!, 'ab')).toBeLessThan(0);
    expect(compareKeys(listingFrom('ab')!, 'aa')).toBeGreaterThan(0);
    expect(compareKeys(listingFrom('a\u{E000}')!, 'a\u{E000}')).toBeLessThan(0);
  });
});
