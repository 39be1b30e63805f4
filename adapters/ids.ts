import { v5 as uuidv5, v7 as uuidv7, validate } from 'uuid';

/** Execution ids are UUID v7: time-ordered, so "newest first" is ORDER BY id DESC. */
export function newExecutionId(): string {
  return uuidv7();
}

export function newConfigId(): string {
  return uuidv7();
}

// Fixed namespace for replay message ids; changing it would break exactly-once across versions.
const MESSAGE_NAMESPACE = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';

/** Deterministic id of the message that publishes one source object for one replay to one route. */
export function replayMessageId(executionId: string, route: string, sourceKey: string): string {
  return uuidv5(`${executionId}\n${route}\n${sourceKey}`, MESSAGE_NAMESPACE);
}

export function isUuid(value: string): boolean {
  return validate(value);
}
