/** The contract's `ExecutionResponse` fields (docs/contract.md), restated on purpose: tests compare the api against the contract, not against its own schema. */
export const CONTRACT_RESPONSE_KEYS = [
  'completed_at',
  'config_id',
  'id',
  'parent_execution_id',
  'replay_source',
  'started_at',
  'status',
  'tag',
];
