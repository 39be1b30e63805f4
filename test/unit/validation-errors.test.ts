import { describe, expect, it } from 'vitest';
import { httpValidationError } from '../../api/errors.ts';
import { ExecutionReplayRequestSchema } from '../../api/schemas.ts';

function errorsFor(input: unknown) {
  const result = ExecutionReplayRequestSchema.safeParse(input);
  if (result.success) throw new Error('expected a validation failure');
  return httpValidationError(result.error, 'json', input).detail;
}

const valid = { replay_source: 'storage', from_stage: 'markdown_segmented', to_route: 'embedding_generator' };

describe('zod issues as FastAPI (pydantic v2) errors', () => {
  it('reports a missing field', () => {
    const { from_stage: _omit, ...body } = valid;
    expect(errorsFor(body)).toEqual([
      { loc: ['body', 'from_stage'], msg: 'Field required', type: 'missing', input: body },
    ]);
  });

  it('reports an empty string', () => {
    expect(errorsFor({ ...valid, to_route: '' })).toEqual([
      {
        loc: ['body', 'to_route'],
        msg: 'String should have at least 1 character',
        type: 'string_too_short',
        input: '',
        ctx: { min_length: 1 },
      },
    ]);
  });

  it('reports a value outside the enum', () => {
    expect(errorsFor({ ...valid, replay_source: 'tape' })).toEqual([
      {
        loc: ['body', 'replay_source'],
        msg: "Input should be 'storage', 'lineage' or 'manual'",
        type: 'enum',
        input: 'tape',
        ctx: { expected: "'storage', 'lineage' or 'manual'" },
      },
    ]);
  });

  it('reports a config_id that is not a UUID', () => {
    expect(errorsFor({ ...valid, config_id: 'abc' })[0]).toMatchObject({
      loc: ['body', 'config_id'],
      type: 'uuid_parsing',
      input: 'abc',
    });
  });

  it('reports wrong types', () => {
    const detail = errorsFor({ ...valid, from_stage: 5, metadata: 'x' });
    expect(detail.map((item) => [item.loc, item.type])).toEqual([
      [['body', 'from_stage'], 'string_type'],
      [['body', 'metadata'], 'dict_type'],
    ]);
  });

  it('reports a body that is not an object', () => {
    expect(errorsFor([1, 2])).toEqual([
      {
        loc: ['body'],
        msg: 'Input should be a valid dictionary or object to extract fields from',
        type: 'model_attributes_type',
        input: [1, 2],
      },
    ]);
  });

  it('accepts nulls for the optional fields, as pydantic Optional does', () => {
    const parsed = ExecutionReplayRequestSchema.safeParse({
      ...valid,
      from_path: null,
      metadata: null,
      tag: null,
      config_id: null,
    });
    expect(parsed.success).toBe(true);
  });
});
