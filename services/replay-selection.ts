/**
 * A replay's selection applied to the objects its listing returns: the modified-time window, then
 * `missing_outputs` (services/missing-outputs.ts). One definition for the publishing activity and
 * the preview, so a preview counts exactly what the replay publishes.
 */
import type { StoredObject } from '../adapters/object-store.ts';
import { stageFolder } from '../adapters/storage-paths.ts';
import { DEFAULT_OUTPUT_MATCH_RULE } from '../domain/output-correspondence.ts';
import {
  inModifiedWindow,
  modifiedWindow,
  selectsEverything,
  type ReplaySelection,
} from '../domain/replay-selection.ts';
import { MissingOutputs, type OutputStore } from './missing-outputs.ts';

export interface ObjectSelection {
  /**
   * The objects of one listed batch the replay publishes, in their order. Batches must come in key
   * order; `inputFolder` is the stage folder their keys are under.
   */
  keep(objects: StoredObject[], inputFolder: string): Promise<StoredObject[]>;
}

/** Keeps every object: a replay that selects everything (and any replay started before selections). */
const KEEP_ALL: ObjectSelection = { keep: async (objects) => objects };

/**
 * The selection of a replay of `parentExecutionId` (whose outputs `missing_outputs` looks for),
 * over a store under `prefix`. Holds one merge's state: make one per listing that goes forward.
 */
export function objectSelection(
  store: OutputStore,
  prefix: string,
  parentExecutionId: string,
  selection: ReplaySelection | undefined,
): ObjectSelection {
  if (!selection || selectsEverything(selection)) return KEEP_ALL;
  const window = modifiedWindow(selection);
  const outputs =
    selection.select === 'missing_outputs' && selection.output_stage
      ? new MissingOutputs(
          store,
          stageFolder(prefix, parentExecutionId, selection.output_stage),
          selection.output_match ?? DEFAULT_OUTPUT_MATCH_RULE,
        )
      : undefined;
  return {
    async keep(objects, inputFolder) {
      const inWindow = objects.filter((object) => inModifiedWindow(window, object.last_modified));
      if (!outputs) return inWindow;
      const answered = await outputs.answered(inWindow.map((object) => object.key.slice(inputFolder.length)));
      return inWindow.filter((_, index) => !answered[index]);
    },
  };
}
