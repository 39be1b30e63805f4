/** The message builder and the provenance headers every broker carries (domain/replay-message.ts). */
import { describe, expect, it } from 'vitest';
import {
  buildReplayMessages,
  messageHeaders,
  type ReplayMessageSource,
} from '../../domain/replay-message.ts';
import { sqsMessageAttributes } from '../../adapters/transports/sqs.ts';

const replay: ReplayMessageSource = {
  id: 'e-3',
  parent_execution_id: 'e-2',
  root_execution_id: 'e-1',
  config_id: 'c-1',
  to_route: 'embedding_generator',
  from_stage: 'markdown_segmented',
  replay_source: 'lineage',
  metadata: { batch: 7 },
  reason: 'embedding model v2',
  requested_by: 'ops',
};
const objects = [
  { key: 'a.json', size: 1, etag: '"x"', last_modified: '2026-12-01T00:00:00.000Z' },
  { key: 'b.json', size: 2, etag: '"y"', last_modified: '2026-12-01T00:00:01.000Z' },
];

describe('buildReplayMessages', () => {
  it('keeps every seed field as it was and adds reason and requested_by', () => {
    const messages = buildReplayMessages(replay, 'bucket', objects, 40, (key) => `id-${key}`);
    expect(messages).toEqual([
      {
        id: 'id-a.json',
        route: 'embedding_generator',
        body: {
          message_id: 'id-a.json',
          execution_id: 'e-3',
          parent_execution_id: 'e-2',
          root_execution_id: 'e-1',
          config_id: 'c-1',
          route: 'embedding_generator',
          stage: 'markdown_segmented',
          replay: true,
          replay_source: 'lineage',
          object: { bucket: 'bucket', ...objects[0] },
          sequence: 40,
          metadata: { batch: 7 },
          reason: 'embedding model v2',
          requested_by: 'ops',
        },
      },
      expect.objectContaining({ id: 'id-b.json', body: expect.objectContaining({ sequence: 41 }) }),
    ]);
    // the seed's fields first, in their order: a consumer that prints the body sees them as before
    expect(Object.keys(messages[0]!.body).slice(0, 12)).toEqual([
      'message_id',
      'execution_id',
      'parent_execution_id',
      'root_execution_id',
      'config_id',
      'route',
      'stage',
      'replay',
      'replay_source',
      'object',
      'sequence',
      'metadata',
    ]);
  });

  it('says null for a replay asked for without a reason, or without authentication', () => {
    const [message] = buildReplayMessages(
      { ...replay, reason: null, requested_by: null },
      'b',
      objects,
      0,
      String,
    );
    expect(message!.body).toMatchObject({ reason: null, requested_by: null });
  });

  it('builds nothing for an empty page', () => {
    expect(buildReplayMessages(replay, 'b', [], 0, String)).toEqual([]);
  });
});

describe('messageHeaders', () => {
  it('carries the ids, the reason and who asked', () => {
    const [message] = buildReplayMessages(replay, 'b', objects, 0, (key) => `id-${key}`);
    expect(messageHeaders(message!.body)).toEqual({
      message_id: 'id-a.json',
      execution_id: 'e-3',
      parent_execution_id: 'e-2',
      root_execution_id: 'e-1',
      reason: 'embedding model v2',
      requested_by: 'ops',
    });
  });

  it('leaves out what has no value; an init message has its id and execution only', () => {
    expect(
      messageHeaders({
        message_id: 'm',
        execution_id: 'e',
        parent_execution_id: null,
        root_execution_id: 'e',
        reason: null,
        requested_by: null,
      }),
    ).toEqual({ message_id: 'm', execution_id: 'e', root_execution_id: 'e' });
    expect(messageHeaders({ message_id: 'm', execution_id: 'e' })).toEqual({
      message_id: 'm',
      execution_id: 'e',
    });
  });

  it('fits within SQS attributes: at most ten, and no character SQS refuses', () => {
    const headers = messageHeaders({
      message_id: 'm',
      execution_id: 'e',
      parent_execution_id: 'p',
      root_execution_id: 'r',
      reason: `tab\tline\nbell\u0007 nul\u0000 \uFFFF ok ünï 😀`,
      requested_by: 'ops',
    });
    const attributes = sqsMessageAttributes(headers);
    expect(Object.keys(attributes).length).toBeLessThanOrEqual(10);
    expect(attributes.reason).toEqual({
      DataType: 'String',
      StringValue: 'tab\tline\nbell\uFFFD nul\uFFFD \uFFFD ok ünï 😀',
    });
    expect(attributes.message_id).toEqual({ DataType: 'String', StringValue: 'm' });
  });
});
