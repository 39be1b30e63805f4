/** The preview's tally on an in-memory listing: bounded folders, a stable sample, resumable, the rate. */
import { describe, expect, it } from 'vitest';
import type { ListPage } from '../../adapters/object-store.ts';
import { replayListing } from '../../adapters/storage-paths.ts';
import {
  applicableRate,
  continueTally,
  estimatedSeconds,
  newTally,
  PREVIEW_MAX_FOLDERS,
  PREVIEW_SAMPLE_SIZE,
  previewCounts,
  type PreviewStore,
  type PreviewTally,
} from '../../services/replay-preview.ts';

/** Keys in S3's order, listed like ListObjectsV2 (StartAfter, MaxKeys). */
function memoryStore(keys: string[]): PreviewStore & { calls: number } {
  const sorted = [...keys].sort();
  const store = {
    calls: 0,
    async listPage(prefix: string, startAfter: string | null, maxKeys: number): Promise<ListPage> {
      store.calls += 1;
      const after = sorted.filter(
        (key) => key.startsWith(prefix) && (startAfter === null || key > startAfter),
      );
      const objects = after
        .slice(0, maxKeys)
        .map((key) => ({ key, size: key.length, etag: '', last_modified: '' }));
      return {
        objects,
        lastKey: objects.at(-1)?.key ?? null,
        isTruncated: after.length > maxKeys && objects.length > 0,
      };
    },
  };
  return store;
}

const listing = replayListing('p/', 'exec', 'stage', null);
const folder = 'p/exec/stage/';

describe('the tally', () => {
  it('keeps the largest sub-folders and sums the others, whatever their number', async () => {
    // folder i holds i + 1 objects: the largest are the last ones
    const folders = PREVIEW_MAX_FOLDERS + 50;
    const keys = Array.from({ length: folders }, (_, index) =>
      Array.from({ length: index + 1 }, (__, item) => `${folder}f${String(index).padStart(4, '0')}/${item}`),
    ).flat();
    keys.push(`${folder}top.json`, 'p/exec/other-stage/x');
    const tally = await continueTally(memoryStore(keys), listing, newTally(listing));
    const counts = previewCounts(tally);
    expect(counts.count).toBe(keys.length - 1);
    expect(counts.folders).toHaveLength(PREVIEW_MAX_FOLDERS + 1);
    expect(counts.folders[0]).toEqual({ folder: '', count: 1, bytes: `${folder}top.json`.length });
    expect(counts.folders.slice(1).map((item) => item.count)).toEqual(
      Array.from({ length: PREVIEW_MAX_FOLDERS }, (_, index) => 51 + index),
    );
    expect(counts.other_folders).toMatchObject({ folders: 50, count: (50 * 51) / 2 });
    expect(JSON.stringify(tally).length).toBeLessThan(20_000);
  });

  it('gives the same uniform sample every time, and the same counts when resumed from its cursor', async () => {
    const keys = Array.from({ length: 5000 }, (_, index) => `${folder}d/${String(index).padStart(5, '0')}`);
    const whole = previewCounts(await continueTally(memoryStore(keys), listing, newTally(listing)));
    expect(whole.sample).toHaveLength(PREVIEW_SAMPLE_SIZE);
    // spread over the listing, not its first keys
    expect(whole.sample.filter((key) => key < keys[1000]!).length).toBeLessThan(PREVIEW_SAMPLE_SIZE);

    // stopped after two listing calls, stored as JSON, and taken up again
    let calls = 0;
    const partial = await continueTally(memoryStore(keys), listing, newTally(listing), {
      shouldStop: () => calls++ === 2,
    });
    expect(partial).toMatchObject({ done: false, listed: 2000 });
    const stored = JSON.parse(JSON.stringify(partial)) as PreviewTally;
    const resumed = previewCounts(await continueTally(memoryStore(keys), listing, stored));
    expect(resumed).toEqual(whole);
    expect(whole).toMatchObject({ count: 5000, listed: 5000, first_key: keys[0], last_key: keys.at(-1) });
  });

  it('selects with from_path as the replay does', async () => {
    const narrowed = replayListing('p/', 'exec', 'stage', 'a/b.json');
    const keys = [`${folder}a/b.json`, `${folder}a/b.json/c`, `${folder}a/b.json5`, `${folder}a/bx`];
    const tally = await continueTally(memoryStore(keys), narrowed, newTally(narrowed));
    expect(tally).toMatchObject({ count: 2, listed: 3 });
  });
});

describe('the rate of the estimate', () => {
  const unlimited = { messages_per_second: 10_000, basis: 'default' as const };
  it('is the lower limit, or the publish rate when no limit slows the replay down', () => {
    expect(applicableRate(undefined, null, unlimited)).toEqual(unlimited);
    expect(applicableRate(200, null, unlimited)).toEqual({ messages_per_second: 200, basis: 'request' });
    expect(applicableRate(500, 200, unlimited)).toEqual({ messages_per_second: 200, basis: 'route' });
    expect(applicableRate(100, 200, unlimited)).toEqual({ messages_per_second: 100, basis: 'request' });
    expect(applicableRate(50_000, null, unlimited)).toEqual(unlimited);
    expect(estimatedSeconds(1001, { messages_per_second: 200, basis: 'route' })).toBe(5.1);
    expect(estimatedSeconds(0, unlimited)).toBe(0);
  });
});
