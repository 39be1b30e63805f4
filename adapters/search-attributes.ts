import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Search attributes operators filter replays by (docs/design.md section 7). All Keyword: exact match.
 * The status one is `ReplayStatus`: `ExecutionStatus` is a reserved Temporal system attribute (the
 * workflow's own Running/Completed/...).
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
} as const;

export const searchAttributeNames = Object.keys(searchAttributes) as (keyof typeof searchAttributes)[];
