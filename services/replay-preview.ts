/**
 * What a replay would publish, counted without publishing: the same listing and selection as the
 * publishing activity (adapters/storage-paths.ts `replayListing`), streamed a listing call at a
 * time into a tally of bounded size. The tally is plain data, so a preview that outlives a request
 * stores it between pages and goes on from its cursor (activities/replay-preview.ts).
 */
import type { ListPage } from '../adapters/object-store.ts';
import type { RouteDefinition } from '../adapters/pipeline-configs.ts';
import type { ReplayListing } from '../adapters/storage-paths.ts';
import type { ReplaySource } from '../domain/replay.ts';
import { SELECT_EVERYTHING, type ReplaySelection } from '../domain/replay-selection.ts';
import type { ObjectSelection } from './replay-selection.ts';

/** Keys in a preview's sample. */
export const PREVIEW_SAMPLE_SIZE = 10;
/** Sub-folders counted one by one; the smaller ones beyond are summed in `other_folders`. */
export const PREVIEW_MAX_FOLDERS = 100;
/** Keys per listing call (S3's most). */
const LIST_PAGE_KEYS = 1000;

export interface FolderCount {
  /** The first path segment under the stage folder, with its `/`; '' for objects directly in it. */
  folder: string;
  count: number;
  bytes: number;
}

/** Everything a preview has counted so far. Bounded whatever the number of objects. */
export interface PreviewTally {
  /** Objects the replay would publish, and their bytes. */
  count: number;
  bytes: number;
  /** Keys read from the store, selected or not. */
  listed: number;
  first_key: string | null;
  last_key: string | null;
  /** The last key read: the next listing call starts after it. */
  cursor: string | null;
  done: boolean;
  /** A uniform sample of the selected keys (reservoir sampling), in no order. */
  sample: string[];
  /** State of the sample's pseudo-random generator: a preview gives the same sample every time. */
  random: number;
  /** Objects directly in the stage folder. */
  files: { count: number; bytes: number };
  /** Closed sub-folders, at most PREVIEW_MAX_FOLDERS: the largest by count. */
  folders: FolderCount[];
  /** The sub-folder being counted: the keys of a folder are contiguous in a listing (key order). */
  current: FolderCount | null;
  others: { folders: number; count: number; bytes: number };
}

/** What a preview answers about the objects (the rest of the answer is the plan: route, rate). */
export interface PreviewCounts {
  count: number;
  bytes: number;
  listed: number;
  first_key: string | null;
  last_key: string | null;
  sample: string[];
  folders: FolderCount[];
  other_folders: { folders: number; count: number; bytes: number };
}

/** FNV-1a: a seed from the listing, so one preview's sample is the same every time. */
function seedOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** mulberry32: the next state and a number in [0, 1). */
function nextRandom(state: number): [number, number] {
  const next = (state + 0x6d2b79f5) >>> 0;
  let value = next;
  value = Math.imul(value ^ (value >>> 15), value | 1);
  value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
  return [next, ((value ^ (value >>> 14)) >>> 0) / 4294967296];
}

export function newTally(listing: ReplayListing): PreviewTally {
  return {
    count: 0,
    bytes: 0,
    listed: 0,
    first_key: null,
    last_key: null,
    cursor: null,
    done: false,
    sample: [],
    random: seedOf(listing.listPrefix),
    files: { count: 0, bytes: 0 },
    folders: [],
    current: null,
    others: { folders: 0, count: 0, bytes: 0 },
  };
}

/** Files a finished sub-folder: among the largest PREVIEW_MAX_FOLDERS, or into `others`. */
function closeFolder(tally: PreviewTally, folder: FolderCount): void {
  const same = tally.folders.find((item) => item.folder === folder.folder);
  if (same) {
    // a store that did not list a folder's keys together: still one entry
    same.count += folder.count;
    same.bytes += folder.bytes;
    return;
  }
  let evicted: FolderCount = folder;
  if (tally.folders.length < PREVIEW_MAX_FOLDERS) {
    tally.folders.push(folder);
    return;
  }
  let smallest = 0;
  tally.folders.forEach((item, index) => {
    if (item.count < tally.folders[smallest]!.count) smallest = index;
  });
  if (tally.folders[smallest]!.count < folder.count) {
    evicted = tally.folders[smallest]!;
    tally.folders[smallest] = folder;
  }
  tally.others.folders += 1;
  tally.others.count += evicted.count;
  tally.others.bytes += evicted.bytes;
}

/** Counts one selected object; `relativeKey` is its key under the stage folder. */
export function addObject(tally: PreviewTally, key: string, relativeKey: string, size: number): void {
  const seen = tally.count;
  tally.count += 1;
  tally.bytes += size;
  tally.first_key ??= key;
  tally.last_key = key;
  if (seen < PREVIEW_SAMPLE_SIZE) {
    tally.sample.push(key);
  } else {
    const [state, random] = nextRandom(tally.random);
    tally.random = state;
    const slot = Math.floor(random * (seen + 1));
    if (slot < PREVIEW_SAMPLE_SIZE) tally.sample[slot] = key;
  }
  const slash = relativeKey.indexOf('/');
  if (slash === -1) {
    tally.files.count += 1;
    tally.files.bytes += size;
    return;
  }
  const folder = relativeKey.slice(0, slash + 1);
  if (tally.current?.folder !== folder) {
    if (tally.current) closeFolder(tally, tally.current);
    tally.current = { folder, count: 0, bytes: 0 };
  }
  tally.current.count += 1;
  tally.current.bytes += size;
}

/** The store call a preview makes: one page of keys under a prefix, after a key. */
export interface PreviewStore {
  listPage(keyPrefix: string, startAfter: string | null, maxKeys: number): Promise<ListPage>;
}

export interface TallyOptions {
  /** Asked before each listing call: true stops with the tally as it stands (not done). */
  shouldStop?: (tally: PreviewTally) => boolean;
  /** Keys the next listing call asks for (1 to 1,000; default 1,000). */
  keysPerCall?: (tally: PreviewTally) => number;
  /** After each listing call, e.g. to heartbeat or store progress. */
  onPage?: (tally: PreviewTally) => void | Promise<void>;
  /** The replay's selection (window, missing outputs) over what from_path selects; absent: all. */
  selection?: ObjectSelection;
}

/**
 * Lists from the tally's cursor to the end of the listing (or until shouldStop), counting what the
 * replay would publish. Holds one listing call's keys at a time.
 */
export async function continueTally(
  store: PreviewStore,
  listing: ReplayListing,
  tally: PreviewTally,
  options: TallyOptions = {},
): Promise<PreviewTally> {
  while (!tally.done) {
    if (options.shouldStop?.(tally)) return tally;
    const keys = Math.min(LIST_PAGE_KEYS, Math.max(1, options.keysPerCall?.(tally) ?? LIST_PAGE_KEYS));
    const page = await store.listPage(listing.listPrefix, tally.cursor, keys);
    tally.listed += page.objects.length;
    const selected = page.objects.filter((object) => listing.selects(object.key));
    const kept = options.selection ? await options.selection.keep(selected, listing.folder) : selected;
    for (const object of kept) {
      addObject(tally, object.key, object.key.slice(listing.folder.length), object.size);
    }
    tally.cursor = page.lastKey ?? tally.cursor;
    if (!page.isTruncated) {
      tally.done = true;
      if (tally.current) closeFolder(tally, tally.current);
      tally.current = null;
    }
    await options.onPage?.(tally);
  }
  return tally;
}

/** The counts a preview answers, so far or final. */
export function previewCounts(tally: PreviewTally): PreviewCounts {
  const folders = [...tally.folders, ...(tally.current ? [tally.current] : [])].map((item) => ({ ...item }));
  if (tally.files.count > 0) folders.push({ folder: '', ...tally.files });
  folders.sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0));
  return {
    count: tally.count,
    bytes: tally.bytes,
    listed: tally.listed,
    first_key: tally.first_key,
    last_key: tally.last_key,
    sample: [...tally.sample].sort(),
    folders,
    other_folders: { ...tally.others },
  };
}

/** Whose rate an estimate assumes: the request's limit, the route's, or the configured publish rate. */
export const rateBases = ['request', 'route', 'default'] as const;
export type RateBasis = (typeof rateBases)[number];

export interface PreviewRate {
  messages_per_second: number;
  basis: RateBasis;
}

/**
 * The rate a replay would publish at: the lower of the request's and the route's limits when one
 * binds, else what the service publishes unlimited (`unlimited`, measured or configured).
 */
export function applicableRate(
  requested: number | null | undefined,
  routeLimit: number | null | undefined,
  unlimited: PreviewRate,
): PreviewRate {
  const limits: PreviewRate[] = [];
  if (requested) limits.push({ messages_per_second: requested, basis: 'request' });
  if (routeLimit) limits.push({ messages_per_second: routeLimit, basis: 'route' });
  const binding = limits.sort((a, b) => a.messages_per_second - b.messages_per_second)[0];
  return binding && binding.messages_per_second < unlimited.messages_per_second ? binding : unlimited;
}

/** Seconds to publish `count` messages at `rate`, to a tenth. */
export function estimatedSeconds(count: number, rate: PreviewRate): number {
  return Math.ceil((count / rate.messages_per_second) * 10) / 10;
}

/** What a preview resolved from the request: fixed once it starts counting. */
export interface PreviewPlan {
  /** The parent execution (the request's UUID or tag, resolved). */
  execution_id: string;
  /** The execution whose storage is read: the parent, or for `lineage` the ancestor that stored the stage. */
  source_execution_id: string;
  replay_source: ReplaySource;
  from_stage: string;
  to_route: string;
  /** Normalised, as the replay stores it; null for the whole stage. */
  from_path: string | null;
  /** The target config (the parent's, or the request's config_id) and its route the replay feeds. */
  config: { id: string; name: string };
  route: RouteDefinition & { max_messages_per_second?: number | null };
  rate: PreviewRate;
  /** What the replay would select besides from_path (absent in previews stored before it existed: all). */
  selection?: ReplaySelection;
}

export type PreviewStatus = 'running' | 'completed' | 'failed' | 'cancelled';

/** A preview as the api answers it: the plan, the counts (final once completed), the estimate. */
export interface PreviewView extends Omit<PreviewPlan, 'selection'>, PreviewCounts {
  selection: ReplaySelection;
  id: string | null;
  status: PreviewStatus;
  estimated_seconds: number;
  error: string | null;
}

export function previewView(
  id: string | null,
  status: PreviewStatus,
  plan: PreviewPlan,
  tally: PreviewTally,
  error: string | null = null,
): PreviewView {
  const counts = previewCounts(tally);
  return {
    id,
    status,
    ...plan,
    selection: plan.selection ?? SELECT_EVERYTHING,
    ...counts,
    estimated_seconds: estimatedSeconds(counts.count, plan.rate),
    error,
  };
}
