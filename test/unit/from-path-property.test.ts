/**
 * Property-based tests (fast-check) of `from_path` confinement (adapters/storage-paths.ts): whatever
 * the input, an accepted path stays inside the stage folder in every reading a server, proxy or S3
 * tool might apply; every encoding of a traversal, NUL, backslash or absolute path is refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_FROM_PATH_LENGTH, normaliseFromPath } from '../../adapters/storage-paths.ts';

const RUNS = Number(process.env.FROM_PATH_PROPERTY_RUNS ?? 20_000);

/**
 * An independent lenient percent-decoder, as many tools have: each run of valid %XX is decoded as
 * UTF-8 (bad sequences become U+FFFD), anything else (a lone `%`, `%zz`) is kept as it is.
 */
function lenientDecode(text: string): string {
  return text.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) =>
    Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8'),
  );
}

/** Every reading of a string: percent-decoded (repeatedly, strict or lenient) and NFKC-folded, in any order. */
function readingsOf(text: string): string[] {
  const seen = new Set([text]);
  let frontier = [text];
  for (let round = 0; round < 12 && frontier.length > 0; round += 1) {
    const next: string[] = [];
    for (const reading of frontier) {
      let strict = reading;
      try {
        strict = decodeURIComponent(reading);
      } catch {
        // not strictly decodable: the lenient reading still counts
      }
      for (const candidate of [reading.normalize('NFKC'), lenientDecode(reading), strict]) {
        if (!seen.has(candidate)) {
          seen.add(candidate);
          next.push(candidate);
        }
      }
    }
    frontier = next;
  }
  return [...seen];
}

function unsafeIn(reading: string): string | undefined {
  if (reading.split('/').includes('..')) return 'a .. segment';
  if (reading.startsWith('/')) return 'a leading /';
  if (reading.includes('\\')) return 'a backslash';
  if (reading.includes('\0')) return 'NUL';
  if (/\p{Cc}/u.test(reading)) return 'a control character';
  return undefined;
}

/** Pieces that make paths interesting: separators, dots and their encodings, broken escapes. */
const PIECES = [
  'a',
  'docs',
  '2024',
  'e',
  '2',
  '5',
  'f',
  'c',
  '.',
  '..',
  '/',
  '%',
  '%2e',
  '%2E',
  '%2f',
  '%2F',
  '%25',
  '%5c',
  '%5C',
  '%00',
  '%0a',
  '%zz',
  '%c0%ae',
  '%e2%80%a4',
  '\\',
  '\0',
  '\n',
  '\u0085',
  '\uff0e',
  '\uff0f',
  '\uff3c',
  '\uff05',
  '\uff12',
  '\uff45',
  '\u2024',
  '\u2025',
  '\ufe52',
  '\ufe68',
  '\ufe6a',
];

const pathLike = fc.array(fc.constantFrom(...PIECES), { maxLength: 14 }).map((pieces) => pieces.join(''));

const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('.', '/', '%', '2', 'e', 'E', 'f', '5', 'c', 'a', '\\'), maxLength: 30 }),
  pathLike,
);

/** Encodings of one character: raw, percent (either case), double and triple percent, fullwidth percent. */
function encodingsOf(char: string, extra: string[] = []): fc.Arbitrary<string> {
  const hex = char.charCodeAt(0).toString(16).padStart(2, '0');
  const percent = [`%${hex}`, `%${hex.toUpperCase()}`];
  const fullwidth = (text: string) =>
    [...text].map((c) => String.fromCharCode(c.charCodeAt(0) - 0x21 + 0xff01)).join('');
  return fc.constantFrom(
    char,
    ...percent,
    ...percent.map((p) => `%25${p.slice(1)}`),
    ...percent.map((p) => `%2525${p.slice(1)}`),
    fullwidth(`%${hex}`),
    `%25${fullwidth(hex)}`.replace('%25', '\uff05'),
    ...extra,
  );
}

const dot = encodingsOf('.', ['\uff0e', '\u2024', '\ufe52']);
const slash = encodingsOf('/', ['\uff0f']);
const backslash = encodingsOf('\\', ['\uff3c', '\ufe68']);
const nul = encodingsOf('\0');
const dotdot = fc.oneof(
  fc.tuple(dot, dot).map(([a, b]) => a + b),
  fc.constant('\u2025'),
);
/** Harmless text, or broken escapes that make a strict decoder give up on the whole string. */
const filler = fc.oneof(
  fc.constantFrom('', 'x', 'docs', 'a.json', '%', '%zz', '100%', '%e', '%c0%ae'),
  fc.string({ unit: 'grapheme-ascii', maxLength: 8 }).filter((text) => !/[\\/%.]/.test(text)),
);

/**
 * Paths of ordinary S3 key characters (AWS's "safe" and "might need special handling" sets, a colon
 * among them; no percent sign, so nothing in them is an escape), segments never `.` or `..`.
 */
const KEY_CHARACTERS = [...'abcxyzABCXYZ0129', ...`!-_.*'()&$@=;:+ ,?~[]{}^|<>#"\``, 'é', 'e\u0301', '日本'];
const keySegment = fc
  .array(fc.constantFrom(...KEY_CHARACTERS), { minLength: 1, maxLength: 12 })
  .map((characters) => characters.join(''))
  .filter((segment) => !/^\.+$/.test(segment));
const ordinaryKey = fc
  .tuple(fc.array(keySegment, { minLength: 1, maxLength: 5 }), fc.boolean())
  .map(([segments, folder]) => segments.join('/') + (folder ? '/' : ''));

describe('from_path confinement, property-based', () => {
  it('accepts every path of ordinary key characters, colons included, as it is', () => {
    fc.assert(
      fc.property(ordinaryKey, (input) => {
        expect(normaliseFromPath(input), JSON.stringify(input)).toEqual({ ok: true, path: input });
      }),
      { numRuns: RUNS / 4 },
    );
  });

  it('an accepted path has no .., no leading /, no backslash, NUL or control character in any reading', () => {
    fc.assert(
      fc.property(anyString, (input) => {
        const result = normaliseFromPath(input);
        if (!result.ok) return;
        expect(result.path.length).toBeLessThanOrEqual(MAX_FROM_PATH_LENGTH);
        for (const reading of readingsOf(result.path)) {
          expect(
            unsafeIn(reading),
            `${JSON.stringify(input)} -> ${JSON.stringify(result.path)}: ${JSON.stringify(reading)}`,
          ).toBeUndefined();
        }
        // normalising is idempotent: the stored path means what the caller was told
        expect(normaliseFromPath(result.path)).toEqual(result);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses a .. segment in any encoding, anywhere in the path', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(filler, slash), { maxLength: 3 }),
        dotdot,
        fc.option(fc.tuple(slash, filler)),
        (before, traversal, after) => {
          const input =
            before.map(([text, separator]) => text + separator).join('') +
            traversal +
            (after ? after[0] + after[1] : '');
          expect(normaliseFromPath(input).ok, JSON.stringify(input)).toBe(false);
        },
      ),
      { numRuns: RUNS / 4 },
    );
  });

  it('refuses NUL and backslash in any encoding, and an absolute path', () => {
    fc.assert(
      fc.property(filler, fc.oneof(nul, backslash), filler, (head, bad, tail) => {
        const input = head + bad + tail;
        expect(normaliseFromPath(input).ok, JSON.stringify(input)).toBe(false);
      }),
      { numRuns: RUNS / 4 },
    );
    fc.assert(
      fc.property(slash, filler, (leading, rest) => {
        const input = leading + rest;
        expect(normaliseFromPath(input).ok, JSON.stringify(input)).toBe(false);
      }),
      { numRuns: RUNS / 4 },
    );
  });
});
