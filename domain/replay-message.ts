/**
 * The messages a replay publishes, built from its record and the objects of a page, and the
 * provenance every transport carries beside the body (Kafka headers, SQS message attributes), so
 * that a route's consumer can tell which replay a message belongs to without parsing it. Pure:
 * plain data in, plain data out (docs/contract.md, "Replay messages").
 */

/** The object a message is a claim check on. */
export interface MessageObject {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  last_modified: string;
}

/** The body of every message a replay publishes (docs/design.md section 5): a claim check on one stored object. */
export interface ReplayMessage {
  message_id: string;
  execution_id: string;
  parent_execution_id: string | null;
  root_execution_id: string;
  config_id: string;
  route: string;
  stage: string;
  replay: true;
  replay_source: 'storage' | 'lineage' | 'manual';
  object: MessageObject;
  sequence: number;
  metadata: Record<string, unknown>;
  // added after the seed's fields (which route authors depend on, unchanged); absent from messages
  // published before replays had a provenance
  /** Why the replay was asked for, as its request said; null: not said. */
  reason?: string | null;
  /** The api key that asked for it; null: the api ran without authentication. */
  requested_by?: string | null;
}

/** What of a replay's record its messages carry. */
export interface ReplayMessageSource {
  id: string;
  parent_execution_id: string | null;
  root_execution_id: string;
  config_id: string;
  to_route: string;
  from_stage: string;
  replay_source: 'storage' | 'lineage' | 'manual';
  metadata: Record<string, unknown>;
  reason: string | null;
  requested_by: string | null;
}

/** A message ready for a transport: its id, its route and its body. */
export interface BuiltReplayMessage {
  id: string;
  route: string;
  body: ReplayMessage;
}

/**
 * One message per object, numbered from `firstSequence` in order. `messageIdOf` gives each
 * object's deterministic id (a resent page gets the same ids).
 */
export function buildReplayMessages(
  replay: ReplayMessageSource,
  bucket: string,
  objects: readonly Omit<MessageObject, 'bucket'>[],
  firstSequence: number,
  messageIdOf: (key: string) => string,
): BuiltReplayMessage[] {
  const route = replay.to_route;
  return objects.map((object, index) => {
    const id = messageIdOf(object.key);
    return {
      id,
      route,
      body: {
        message_id: id,
        execution_id: replay.id,
        parent_execution_id: replay.parent_execution_id,
        root_execution_id: replay.root_execution_id,
        config_id: replay.config_id,
        route,
        stage: replay.from_stage,
        replay: true,
        replay_source: replay.replay_source,
        object: { bucket, ...object },
        sequence: firstSequence + index,
        metadata: replay.metadata,
        reason: replay.reason,
        requested_by: replay.requested_by,
      },
    };
  });
}

/** The body fields the headers repeat (an init message has only the first two). */
export interface HeaderSource {
  message_id: string;
  execution_id: string;
  parent_execution_id?: string | null;
  root_execution_id?: string;
  reason?: string | null;
  requested_by?: string | null;
}

/**
 * The headers (Kafka) or message attributes (SQS) of a message: its id, its execution, and for a
 * replay its parent, its root, why and by whom. A field with no value has no header. At most six,
 * within SQS's ten message attributes.
 */
export function messageHeaders(body: HeaderSource): Record<string, string> {
  const headers: Record<string, string> = { message_id: body.message_id, execution_id: body.execution_id };
  const optional: [string, string | null | undefined][] = [
    ['parent_execution_id', body.parent_execution_id],
    ['root_execution_id', body.root_execution_id],
    ['reason', body.reason],
    ['requested_by', body.requested_by],
  ];
  for (const [name, value] of optional) {
    if (value !== null && value !== undefined && value !== '') headers[name] = value;
  }
  return headers;
}
