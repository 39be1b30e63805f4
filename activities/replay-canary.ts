import { ApplicationFailure, Context } from '@temporalio/activity';
import { getExecution, setCanaryState, type ExecutionRecord } from '../adapters/executions.ts';
import { findRoute, getPipelineConfig } from '../adapters/pipeline-configs.ts';
import { replayListing, stageFolder } from '../adapters/storage-paths.ts';
import { failureTypes } from '../domain/replay.ts';
import { DEFAULT_OUTPUT_MATCH_RULE } from '../domain/output-correspondence.ts';
import { canaryRatioReached, countAnsweredInputs } from '../domain/replay-canary.ts';
import type { WatchCanaryInput, WatchCanaryResult } from '../workflows/replay-execution.contract.ts';
import { activityLogger, type ReplayActivityDependencies } from './dependencies.ts';
import { whileHeartbeating } from './heartbeat.ts';

/** How often the output stage is listed again while a canary waits. */
const CANARY_POLL_MS = 1000;
/** Keys of the output stage a canary reads at most (its outputs are those of at most 10,000 inputs). */
const MAX_CANARY_OUTPUT_KEYS = 200_000;

export function createCanaryActivities({ pool, objectStore, logger }: ReplayActivityDependencies) {
  /** Every key under a prefix (a stage folder), relative to it, up to `limit` keys. */
  async function listRelative(prefix: string, limit: number): Promise<string[]> {
    const keys: string[] = [];
    let startAfter: string | null = null;
    for (;;) {
      const page = await objectStore.listPage(prefix, startAfter, 1000);
      for (const object of page.objects) {
        keys.push(object.key.slice(prefix.length));
        if (keys.length >= limit) return keys;
      }
      if (!page.isTruncated) return keys;
      startAfter = page.lastKey;
    }
  }

  /** The paths (relative to the input stage) of the first `published` messages the replay published. */
  async function publishedInputs(record: ExecutionRecord, published: number): Promise<string[]> {
    const source = record.source_execution_id ?? record.parent_execution_id!;
    const listing = replayListing(objectStore.prefix, source, record.from_stage!, record.from_path);
    const inputs: string[] = [];
    let startAfter: string | null = null;
    while (inputs.length < published) {
      const page = await objectStore.listPage(listing.listPrefix, startAfter, 1000);
      for (const object of page.objects) {
        if (listing.selects(object.key)) inputs.push(object.key.slice(listing.folder.length));
        if (inputs.length >= published) break;
      }
      if (!page.isTruncated) break;
      startAfter = page.lastKey;
    }
    return inputs;
  }

  return {
    /**
     * A canary's wait: lists the new execution's output stage (its route's `output_stage`) every
     * second until the outputs answer `minOutputRatio` of the inputs its first messages carried,
     * or `deadlineMs` passes. Reads only, and writes the count it found to the record (the api's
     * `progress.canary`), so a retried attempt simply counts again. Heartbeats while it waits.
     */
    async watchCanaryOutputs(input: WatchCanaryInput): Promise<WatchCanaryResult> {
      const context = Context.current();
      const log = activityLogger(logger, input.executionId);
      const record = await getExecution(pool, input.executionId);
      if (!record || !record.from_stage || !record.to_route) {
        throw ApplicationFailure.nonRetryable(
          `replay ${input.executionId} not found`,
          failureTypes.executionNotFound,
        );
      }
      const config = await getPipelineConfig(pool, record.config_id);
      const route = config ? findRoute(config, record.to_route) : undefined;
      const outputStage = route?.output_stage;
      if (!outputStage) {
        throw ApplicationFailure.nonRetryable(
          `route '${record.to_route}' has no output_stage`,
          failureTypes.configNotFound,
        );
      }
      // the route's own rule of which output answers which input (`output_match`), as missing_outputs reads it
      const rule = route?.output_match ?? DEFAULT_OUTPUT_MATCH_RULE;
      const outputFolder = stageFolder(objectStore.prefix, record.id, outputStage);
      let found = 0;
      let inputs: string[] = [];
      const watch = async (): Promise<WatchCanaryResult> => {
        inputs = await publishedInputs(record, input.published);
        await setCanaryState(pool, record.id, {
          outcome: 'watching',
          published: inputs.length,
          outputs_found: 0,
        });
        for (;;) {
          const outputs = await listRelative(outputFolder, MAX_CANARY_OUTPUT_KEYS);
          const counted = countAnsweredInputs(rule, inputs, outputs);
          if (counted !== found) {
            found = counted;
            await setCanaryState(pool, record.id, {
              outcome: 'watching',
              published: inputs.length,
              outputs_found: found,
            });
          }
          const reached = canaryRatioReached(found, inputs.length, input.minOutputRatio);
          const left = input.deadlineMs - Date.now();
          if (reached || left <= 0) {
            await setCanaryState(pool, record.id, {
              outcome: reached ? 'passed' : 'failed',
              published: inputs.length,
              outputs_found: found,
            });
            log.info({ published: inputs.length, outputs_found: found, reached }, 'canary decided');
            return { published: inputs.length, outputsFound: found, reached };
          }
          await context.sleep(Math.min(CANARY_POLL_MS, left));
        }
      };
      return whileHeartbeating(watch, () => ({ published: inputs.length, outputs_found: found }));
    },

    /** Records that a canary was not needed (the replay was done within its messages). Idempotent. */
    async skipCanary(input: { executionId: string; published: number }): Promise<void> {
      await setCanaryState(pool, input.executionId, {
        outcome: 'skipped',
        published: input.published,
        outputs_found: 0,
      });
    },
  };
}
