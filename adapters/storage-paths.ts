/**
 * Where stage outputs live, and the confinement of a caller's `from_path` to one stage folder.
 * Layout: {prefix}{execution_id}/{stage}/{path} (DESIGN.md section 3).
 */

export function executionFolder(prefix: string, executionId: string): string {
  return `${prefix}${executionId}/`;
}

export function stageFolder(prefix: string, executionId: string, stage: string): string {
  return `${executionFolder(prefix, executionId)}${stage}/`;
}

export const MAX_FROM_PATH_LENGTH = 1024;

export type FromPathResult = { ok: true; path: string } | { ok: false; reason: string };

const MAX_DECODE_ROUNDS = 5;

/** Every reading of the input a server, proxy or S3 tool might apply: raw, percent-decoded (repeatedly), Unicode-folded. */
function readings(input: string): string[] {
  const seen = new Set<string>();
  let current = input;
  for (let round = 0; round <= MAX_DECODE_ROUNDS; round += 1) {
    seen.add(current);
    seen.add(current.normalize('NFKC'));
    let decoded: string;
    try {
      decoded = decodeURIComponent(current);
    } catch {
      // a lone % is not an encoding of anything; keep what we have
      break;
    }
    if (decoded === current) break;
    current = decoded;
  }
  return [...seen];
}

function unsafeReason(reading: string): string | undefined {
  if (reading.includes('\0')) return 'must not contain a NUL character';
  if (reading.includes('\\')) return 'must not contain a backslash';
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(reading)) return 'must not contain control characters';
  if (reading.startsWith('/')) return 'must be relative (no leading "/")';
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(reading)) return 'must be a relative path, not a URL';
  if (reading.split('/').some((segment) => segment === '..')) return 'must not contain ".." segments';
  return undefined;
}

/**
 * Validates and normalises a `from_path` relative to a stage folder. Refuses absolute paths, `..`,
 * backslashes, NUL and control characters, in any percent-encoded (also double-encoded) or
 * Unicode-compatible form. Normalises `./` segments and repeated slashes. Returns '' for "everything".
 */
export function normaliseFromPath(input: string): FromPathResult {
  if (input.length > MAX_FROM_PATH_LENGTH) {
    return { ok: false, reason: `must be at most ${MAX_FROM_PATH_LENGTH} characters` };
  }
  for (const reading of readings(input)) {
    const reason = unsafeReason(reading);
    if (reason) return { ok: false, reason };
  }
  const endsWithSlash = input.endsWith('/');
  const segments = input.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.length === 0) return { ok: true, path: '' };
  return { ok: true, path: segments.join('/') + (endsWithSlash ? '/' : '') };
}

/**
 * Whether a key relative to the stage folder is selected by a normalised from_path:
 * '' selects all; 'a/' selects the folder a; 'a/b.json' selects that key and the folder 'a/b.json/'.
 */
export function selectsKey(fromPath: string, relativeKey: string): boolean {
  if (fromPath === '' || fromPath.endsWith('/')) return relativeKey.startsWith(fromPath);
  return relativeKey === fromPath || relativeKey.startsWith(`${fromPath}/`);
}
