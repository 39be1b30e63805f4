import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import type { NewReplay } from './replay-execution.contract.ts';

/**
 * Search attributes operators filter replays by (README, Operators). All Keyword: exact match.
 * The status attribute is `ReplayStatus` because `ExecutionStatus` is a reserved Temporal system
 * attribute (the workflow's own Running/Completed/...).
 */
export const searchAttributes = {
  ExecutionId: defineSearchAttributeKey('ExecutionId', SearchAttributeType.KEYWORD),
  ParentExecutionId: defineSearchAttributeKey('ParentExecutionId', SearchAttributeType.KEYWORD),
  RootExecutionId: defineSearchAttributeKey('RootExecutionId', SearchAttributeType.KEYWORD),
  ConfigId: defineSearchAttributeKey('ConfigId', SearchAttributeType.KEYWORD),
  ReplaySource: defineSearchAttributeKey('ReplaySource', SearchAttributeType.KEYWORD),
  ReplayStatus: defineSearchAttributeKey('ReplayStatus', SearchAttributeType.KEYWORD),
  ExecutionTag: defineSearchAttributeKey('ExecutionTag', SearchAttributeType.KEYWORD),
  FromStage: defineSearchAttributeKey('FromStage', SearchAttributeType.KEYWORD),
  ToRoute: defineSearchAttributeKey('ToRoute', SearchAttributeType.KEYWORD),
  /** On a bulk replay's workflow and on each of its children. */
  BulkReplayId: defineSearchAttributeKey('BulkReplayId', SearchAttributeType.KEYWORD),
} as const;

export const searchAttributeNames = Object.keys(searchAttributes) as (keyof typeof searchAttributes)[];

/** The attributes a replay's workflow starts with, whoever starts it (the api, a bulk replay). */
export function replaySearchAttributes(replay: NewReplay, bulkReplayId?: string): SearchAttributePair[] {
  return [
    { key: searchAttributes.ExecutionId, value: replay.id },
    { key: searchAttributes.ParentExecutionId, value: replay.parent_execution_id },
    { key: searchAttributes.RootExecutionId, value: replay.root_execution_id },
    { key: searchAttributes.ConfigId, value: replay.config_id },
    { key: searchAttributes.ReplaySource, value: replay.replay_source },
    { key: searchAttributes.ReplayStatus, value: 'running' },
    { key: searchAttributes.FromStage, value: replay.from_stage },
    { key: searchAttributes.ToRoute, value: replay.to_route },
    ...(replay.tag ? [{ key: searchAttributes.ExecutionTag, value: replay.tag }] : []),
    ...(bulkReplayId ? [{ key: searchAttributes.BulkReplayId, value: bulkReplayId }] : []),
  ];
}
