/**
 * Which stored outputs answer which inputs: the rule `select: "missing_outputs"` and the canary use
 * to decide that an input of `from_stage` is done. Paths are relative to their stage folder.
 *
 * - `stem` (the default): the output's path without its extension equals the input's path without
 *   its extension, or begins with it followed by `/` (a folder of outputs per input).
 *   `reports/a.pdf` is answered by `reports/a.json`, `reports/a.md` and `reports/a/page-1.json`.
 * - `exact`: the output's path equals the input's path, extension included.
 *
 * Plain data and functions only: every layer may import it.
 */

export const outputMatchRules = ['stem', 'exact'] as const;
export type OutputMatchRule = (typeof outputMatchRules)[number];
export const DEFAULT_OUTPUT_MATCH_RULE: OutputMatchRule = 'stem';

/** The path without the extension of its last segment (`a/b.tar.gz` → `a/b.tar`; `a/.env` stays). */
export function withoutExtension(path: string): string {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  // a dot that starts the segment names a hidden file, not an extension
  return dot > slash + 1 ? path.slice(0, dot) : path;
}

/** Whether `output` (relative to the output stage) answers `input` (relative to the input stage). */
export function outputAnswersInput(rule: OutputMatchRule, input: string, output: string): boolean {
  if (rule === 'exact') return output === input;
  const stem = withoutExtension(input);
  return withoutExtension(output) === stem || output.startsWith(`${stem}/`);
}

/**
 * What an input is matched by: its stem (`stem`) or itself (`exact`). Every output that answers the
 * input starts with it, so the outputs of one input lie in one contiguous range of a listing.
 */
export function inputMatchKey(rule: OutputMatchRule, input: string): string {
  return rule === 'exact' ? input : withoutExtension(input);
}

/**
 * The match keys (inputMatchKey) an output answers: itself (`exact`); its own stem and every folder
 * it lies in (`stem`: `a/b/c.json` answers `a/b/c`, `a/b` and `a`). Each is a prefix of the output.
 */
export function matchKeysAnsweredBy(rule: OutputMatchRule, output: string): string[] {
  if (rule === 'exact') return [output];
  const keys = [withoutExtension(output)];
  for (let slash = output.indexOf('/'); slash !== -1; slash = output.indexOf('/', slash + 1)) {
    keys.push(output.slice(0, slash));
  }
  return keys;
}
