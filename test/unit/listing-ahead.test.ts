/** The input listing of a `missing_outputs` replay, one store call ahead of its caller. */
import { describe, expect, it } from 'vitest';
import type { ListPage } from '../../adapters/object-store.ts';
import { listingAhead } from '../../services/listing-ahead.ts';

/** Keys k000..k(n-1) under `p/`, with StartAfter and MaxKeys; records each call it answers. */
function store(count: number) {
  const keys = Array.from({ length: count }, (_, index) => `p/k${String(index).padStart(3, '0')}`);
  const calls: string[] = [];
  return {
    calls,
    async listPage(prefix: string, startAfter: string | null, maxKeys: number): Promise<ListPage> {
      calls.push(`${startAfter}:${maxKeys}`);
      const after = keys.filter((key) => key.startsWith(prefix) && (startAfter === null || key > startAfter));
      const page = after.slice(0, maxKeys);
      return {
        objects: page.map((key) => ({ key, size: 1, etag: 'e', last_modified: '2026-01-01T00:00:00Z' })),
        lastKey: page.at(-1) ?? null,
        isTruncated: after.length > page.length,
      };
    },
  };
}

describe('listingAhead', () => {
  it('asks for the next call as soon as one comes back truncated, and answers the caller with it', async () => {
    const backing = store(25);
    const listing = listingAhead(backing);
    const first = await listing.listPage('p/', null, 10);
    // the second call is asked for before the caller asks
    expect(backing.calls).toEqual(['null:10', 'p/k009:10']);
    const second = await listing.listPage('p/', first.lastKey, 10);
    const third = await listing.listPage('p/', second.lastKey, 10);
    expect([...first.objects, ...second.objects, ...third.objects].map((object) => object.key)).toEqual(
      Array.from({ length: 25 }, (_, index) => `p/k${String(index).padStart(3, '0')}`),
    );
    // each call made once; none past the last page
    expect(backing.calls).toEqual(['null:10', 'p/k009:10', 'p/k019:10']);
    expect(third.isTruncated).toBe(false);
  });

  it('runs up to depth calls ahead, each once, and goes on as the caller reads them', async () => {
    const backing = store(95);
    const listing = listingAhead(backing, 3);
    const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
    let page = await listing.listPage('p/', null, 10);
    await settle();
    // three calls ahead of the caller, no more
    expect(backing.calls).toEqual(['null:10', 'p/k009:10', 'p/k019:10', 'p/k029:10']);
    const keys = page.objects.map((object) => object.key);
    while (page.isTruncated) {
      page = await listing.listPage('p/', page.lastKey, 10);
      keys.push(...page.objects.map((object) => object.key));
      await settle();
      expect(backing.calls.length).toBeLessThanOrEqual(Math.min(10, keys.length / 10 + 3));
    }
    expect(keys).toEqual(Array.from({ length: 95 }, (_, index) => `p/k${String(index).padStart(3, '0')}`));
    // every call once, none past the end
    expect(backing.calls).toEqual(
      Array.from({ length: 10 }, (_, index) =>
        index === 0 ? 'null:10' : `p/k${String(index * 10 - 1).padStart(3, '0')}:10`,
      ),
    );
  });

  it('makes a call asked for elsewhere as asked, and drops the one ahead', async () => {
    const backing = store(25);
    const listing = listingAhead(backing);
    await listing.listPage('p/', null, 10);
    const elsewhere = await listing.listPage('p/', 'p/k004', 5);
    expect(elsewhere.objects.map((object) => object.key)).toEqual([
      'p/k005',
      'p/k006',
      'p/k007',
      'p/k008',
      'p/k009',
    ]);
    expect(backing.calls).toEqual(['null:10', 'p/k009:10', 'p/k004:5', 'p/k009:5']);
  });

  it('a failed call ahead fails only the caller that uses it', async () => {
    const backing = store(25);
    let failNext = false;
    const flaky = {
      listPage: async (prefix: string, startAfter: string | null, maxKeys: number) => {
        if (failNext) {
          failNext = false;
          throw new Error('store down');
        }
        return backing.listPage(prefix, startAfter, maxKeys);
      },
    };
    const listing = listingAhead(flaky);
    failNext = false;
    const first = await listing.listPage('p/', null, 10);
    failNext = true;
    // the call ahead was already made (it succeeded); the next one ahead fails
    const second = await listing.listPage('p/', first.lastKey, 10);
    await expect(listing.listPage('p/', second.lastKey, 10)).rejects.toThrow('store down');
    // asked again (a retry), the call is made afresh
    expect((await listing.listPage('p/', second.lastKey, 10)).objects).toHaveLength(5);
  });
});
