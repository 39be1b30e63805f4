/**
 * `select: "missing_outputs"`: which inputs of a stage have no output in the parent's output stage,
 * found by one merge of the two listings, both in key order (S3's: UTF-8 bytes), holding one batch
 * of inputs and one listing call of outputs at a time.
 *
 * Every output that answers an input starts with the input's match key (its stem, or itself for
 * `exact`: domain/output-correspondence.ts), so one input's outputs are one contiguous range of the
 * output listing, beginning at or before the input itself. The ranges are not in the inputs' order:
 * `a-b.pdf` lists before `a.pdf`, but its range `a-b…` lies inside `a.pdf`'s range `a…`, and
 * `a.pdf`'s outputs go on past it (`a/page-1.json`, since `/` sorts after `.`). So a batch of
 * inputs reads the outputs from its smallest match key up to its last input, and then, for the
 * match keys still unanswered that are prefixes of its last input (the only ones whose ranges go on
 * past it), on while the outputs still start with them. A batch whose smallest match key lies
 * behind what the previous batch read (a stem that is a prefix of the previous batch's last key:
 * `a.pdf` after `a-b.pdf`) lists again from there; every other batch goes on where the last stopped.
 */
import { listingAhead, type KeyListing } from './listing-ahead.ts';
import { compareKeys } from '../domain/key-order.ts';
import { inputMatchKey, matchKeysAnsweredBy, type OutputMatchRule } from '../domain/output-correspondence.ts';

/** The store call the merge makes: one page of keys under a prefix, after a key. */
export type OutputStore = KeyListing;

/** Keys per listing call of the outputs (S3's most). */
const OUTPUT_KEYS_PER_CALL = 1000;
/** Sorts after any character: the StartAfter that lists from a key on, that key included. */
const PAST_ANY_CHARACTER = '\u{10FFFF}';

/**
 * A StartAfter that lists every key from `key` on (S3's StartAfter is exclusive): the greatest
 * string below `key` within reach, its last character lowered by one and followed by U+10FFFF.
 * Keys between it and `key` are read and dropped.
 */
export function listingFrom(key: string): string | null {
  if (key === '') return null;
  const characters = [...key];
  const last = characters.pop()!.codePointAt(0)!;
  let lower = last - 1;
  if (lower >= 0xdc00 && lower <= 0xdfff) lower = 0xd7ff;
  if (lower < 0) return characters.length === 0 ? null : characters.join('');
  return characters.join('') + String.fromCodePoint(lower) + PAST_ANY_CHARACTER;
}

/** The output listing as a stream that can go on, or start again from an earlier key. */
class OutputStream {
  private buffer: string[] = [];
  private next = 0;
  /** Relative to the folder: where the next listing call starts (exclusive). */
  private startAfter: string | null = null;
  private exhausted = true;
  /** What the stream still yields: every output from `from` on, or after `taken` once one was taken. */
  private from: string | null = null;
  private taken: string | null = null;
  /**
   * The store, one listing call ahead: the next call is asked for as soon as a page comes back
   * truncated, so the store lists it while this one is merged (the input listing and the publishing
   * go on meanwhile); dropped if a seek moves the stream elsewhere.
   */
  private readonly store: KeyListing;

  constructor(
    store: OutputStore,
    private readonly folder: string,
  ) {
    this.store = listingAhead(store);
  }

  /** Makes the stream yield every output from `key` on (relative to the folder). */
  seek(key: string): void {
    const covered =
      this.from !== null &&
      (this.taken === null ? compareKeys(key, this.from) >= 0 : compareKeys(key, this.taken) > 0);
    if (!covered) {
      this.buffer = [];
      this.next = 0;
      this.startAfter = listingFrom(key);
      this.exhausted = false;
      this.from = key;
      this.taken = null;
      return;
    }
    while (this.next < this.buffer.length && compareKeys(this.buffer[this.next]!, key) < 0) this.next += 1;
    // nothing buffered: the next call may start at the key, past what lies before it
    if (this.next === this.buffer.length && !this.exhausted) {
      const start = listingFrom(key);
      if (start !== null && (this.startAfter === null || compareKeys(start, this.startAfter) > 0))
        this.startAfter = start;
    }
    // what lay before the key is dropped: the stream now yields the outputs from it on
    this.from = key;
    this.taken = null;
  }

  /** The next output (relative key), without taking it; null at the end of the listing. */
  async peek(): Promise<string | null> {
    for (;;) {
      // a listing that starts just below `from` may return keys below it: they are not asked for
      while (
        this.taken === null &&
        this.next < this.buffer.length &&
        compareKeys(this.buffer[this.next]!, this.from!) < 0
      )
        this.next += 1;
      if (this.next < this.buffer.length || this.exhausted) break;
      const startAfter = this.startAfter === null ? null : this.folder + this.startAfter;
      const page = await this.store.listPage(this.folder, startAfter, OUTPUT_KEYS_PER_CALL);
      this.buffer = page.objects.map((object) => object.key.slice(this.folder.length));
      this.next = 0;
      if (page.lastKey !== null) this.startAfter = page.lastKey.slice(this.folder.length);
      this.exhausted = !page.isTruncated;
    }
    return this.next < this.buffer.length ? this.buffer[this.next]! : null;
  }

  take(): void {
    this.taken = this.buffer[this.next]!;
    this.next += 1;
  }
}

/**
 * Finds, batch by batch, which inputs have an output. Batches must come in key order (each after the
 * last), as a replay's pages and a preview's listing calls do; calls are serialised, so a prefetched
 * batch that is dropped and listed again is still answered right.
 */
export class MissingOutputs {
  private readonly stream: OutputStream;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    store: OutputStore,
    /** The output stage folder (full key prefix, ending with `/`). */
    outputFolder: string,
    private readonly rule: OutputMatchRule,
  ) {
    this.stream = new OutputStream(store, outputFolder);
  }

  /** For inputs (relative keys, in key order): whether each has an output. */
  answered(inputs: readonly string[]): Promise<boolean[]> {
    const run = this.queue.then(() => this.answer(inputs));
    this.queue = run.catch(() => {});
    return run;
  }

  private async answer(inputs: readonly string[]): Promise<boolean[]> {
    if (inputs.length === 0) return [];
    const keys = inputs.map((input) => inputMatchKey(this.rule, input));
    const found = new Map<string, boolean>(keys.map((key) => [key, false]));
    const smallest = keys.reduce((low, key) => (compareKeys(key, low) < 0 ? key : low));
    const last = inputs.at(-1)!;
    const mark = (output: string) => {
      for (const key of matchKeysAnsweredBy(this.rule, output)) if (found.has(key)) found.set(key, true);
    };

    this.stream.seek(smallest);
    for (let output = await this.stream.peek(); output !== null && compareKeys(output, last) <= 0;) {
      mark(output);
      this.stream.take();
      output = await this.stream.peek();
    }
    // the ranges that go on past the last input: unanswered match keys that are prefixes of it
    let open = [...found].filter(([key, done]) => !done && last.startsWith(key)).map(([key]) => key);
    while (open.length > 0) {
      const widest = open.reduce((short, key) => (key.length < short.length ? key : short));
      const output = await this.stream.peek();
      if (output === null || !output.startsWith(widest)) break;
      mark(output);
      this.stream.take();
      open = open.filter((key) => !found.get(key));
    }
    return keys.map((key) => found.get(key)!);
  }
}
