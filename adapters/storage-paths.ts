/**
 * Where stage outputs live, and the confinement of a caller's `from_path` to one stage folder.
 * Layout: {prefix}{execution_id}/{stage}/{path} (docs/design.md section 3).
 */

export function executionFolder(prefix: string, executionId: string): string {
  return `${prefix}${executionId}/`;
}

export function stageFolder(prefix: string, executionId: string, stage: string): string {
  return `${executionFolder(prefix, executionId)}${stage}/`;
}

export const MAX_FROM_PATH_LENGTH = 1024;

export type FromPathResult = { ok: true; path: string } | { ok: false; reason: string };

/** Layers of encoding unwrapped; a path still changing after that many is refused. */
const MAX_DECODE_ROUNDS = 8;

/**
 * Percent-decoding as lenient tools do it: each run of valid `%XX` is decoded as UTF-8 (a bad sequence
 * becomes U+FFFD), anything else (a lone `%`, `%zz`) is kept. A strict decoder (decodeURIComponent)
 * gives up on the whole string at the first broken escape, which would hide every escape after it.
 */
function percentDecode(text: string): string {
  return text.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) =>
    Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8'),
  );
}

/**
 * Every reading of the input a server, proxy or S3 tool might apply: raw, percent-decoded and
 * Unicode-folded (NFKC), in any order and repeatedly (a fullwidth `％２ｅ` folds to `%2e`, which decodes
 * to `.`). Undefined when the readings still change after MAX_DECODE_ROUNDS.
 */
function readings(input: string): string[] | undefined {
  const seen = new Set([input]);
  let frontier = [input];
  for (let round = 0; frontier.length > 0; round += 1) {
    if (round === MAX_DECODE_ROUNDS) return undefined;
    const next: string[] = [];
    for (const reading of frontier) {
      for (const candidate of [reading.normalize('NFKC'), percentDecode(reading)]) {
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

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function unsafeReason(reading: string): string | undefined {
  if (reading.includes('\0')) return 'must not contain a NUL character';
  if (reading.includes('\\')) return 'must not contain a backslash';
  // C0, DEL and C1
  if (/\p{Cc}/u.test(reading)) return 'must not contain control characters';
  if (reading.startsWith('/')) return 'must be relative (no leading "/")';
  if (reading.split('/').some((segment) => segment === '..')) return 'must not contain ".." segments';
  return undefined;
}

/**
 * Validates and normalises a `from_path` relative to a stage folder. Every character an S3 key may
 * hold is accepted (a colon too: `report:v2.json` is a key, not a URL). Refuses absolute paths, `..`,
 * backslashes, NUL and control characters, in any percent-encoded (also double-encoded, also after
 * a broken escape) or Unicode-compatible (NFKC: fullwidth, one-dot leader, small full stop) form,
 * and lone surrogates. Normalises `./` segments and repeated slashes. Returns '' for "everything".
 */
export function normaliseFromPath(input: string): FromPathResult {
  if (input.length > MAX_FROM_PATH_LENGTH) {
    return { ok: false, reason: `must be at most ${MAX_FROM_PATH_LENGTH} characters` };
  }
  if (LONE_SURROGATE.test(input)) return { ok: false, reason: 'must be valid Unicode (no lone surrogates)' };
  const endsWithSlash = input.endsWith('/');
  const segments = input.split('/').filter((segment) => segment !== '' && segment !== '.');
  const path = segments.length === 0 ? '' : segments.join('/') + (endsWithSlash ? '/' : '');
  // the normalised path too: dropping `./` can bring a fullwidth `／` to the front (`./／` -> `／`)
  for (const text of path === input ? [input] : [input, path]) {
    const all = readings(text);
    if (!all) return { ok: false, reason: `must not be encoded in ${MAX_DECODE_ROUNDS} or more layers` };
    for (const reading of all) {
      const reason = unsafeReason(reading);
      if (reason) return { ok: false, reason };
    }
  }
  return { ok: true, path };
}

/**
 * Whether a key relative to the stage folder is selected by a normalised from_path:
 * '' selects all; 'a/' selects the folder a; 'a/b.json' selects that key and the folder 'a/b.json/'.
 */
export function selectsKey(fromPath: string, relativeKey: string): boolean {
  if (fromPath === '' || fromPath.endsWith('/')) return relativeKey.startsWith(fromPath);
  return relativeKey === fromPath || relativeKey.startsWith(`${fromPath}/`);
}

/** What a replay lists and keeps: one definition for the replay itself and for its preview. */
export interface ReplayListing {
  /** The stage folder of the execution that is read. */
  folder: string;
  /** The S3 prefix listed: the stage folder and from_path. */
  listPrefix: string;
  /** Whether a listed key (a full key under listPrefix) is one the replay publishes. */
  selects(key: string): boolean;
}

export function replayListing(
  prefix: string,
  sourceExecutionId: string,
  stage: string,
  fromPath: string | null,
): ReplayListing {
  const folder = stageFolder(prefix, sourceExecutionId, stage);
  const path = fromPath ?? '';
  return {
    folder,
    listPrefix: folder + path,
    selects: (key) => selectsKey(path, key.slice(folder.length)),
  };
}
