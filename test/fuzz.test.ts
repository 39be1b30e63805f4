/**
 * Fuzzing the api from its own OpenAPI document: for every operation of /openapi.json, requests are
 * generated from the JSON schemas of its parameters and body (fast-check), some valid (with real
 * parents, configs, stages and routes, so they reach the deep checks and start real replays), most
 * mutated (wrong types, missing fields, huge and odd Unicode strings, deep nesting, broken JSON,
 * wrong content types, hostile path and query values). Every answer must be below 500, be JSON
 * matching the schema documented for its status (ajv), and a refused request must write nothing.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_RESPONSES } from '../api/openapi.ts';
import { createExecution, registerConfig, seedOutputs } from './support/fixtures.ts';
import { createTestStack, type TestStack } from './support/test-stack.ts';

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 3000);
/** The run stops sending at this bound, whatever REQUESTS says (the suite's budget for this file). */
const TIME_LIMIT_MS = Number(process.env.FUZZ_TIME_LIMIT_MS ?? 50_000);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const UNKNOWN_ID = '01936f8e-6c2a-7cc3-9a53-5b8a2f1c9d10';

type Schema = Record<string, any>;

interface Operation {
  method: string;
  path: string;
  spec: Schema;
}

/** One generated request, before it is put on the wire. */
interface RequestSpec {
  pathParams: Record<string, string>;
  query: [string, string][];
  headers: Record<string, string>;
  /** undefined: no body; a string: sent as it is; anything else: JSON. */
  body?: unknown;
  contentType?: string | null;
}

interface Sent {
  operation: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

let stack: TestStack;
let document: Schema;
let parentId: string;
let configId: string;
let otherConfigId: string;
const accepted = { executions: new Set<string>(), configs: new Set<string>() };
const acceptedList: string[] = [];
/** Ids the api has handed out, so the operations on them reach more than their 404. */
const handedOut = { bulkReplays: [] as string[], previews: [] as string[] };

beforeAll(async () => {
  stack = await createTestStack({ REPLAY_PAGE_SIZE: '10' });
  await stack.startWorker();
  configId = (await registerConfig(stack)).id;
  otherConfigId = (
    await registerConfig(stack, {
      name: 'documents-v2',
      stages: ['markdown_segmented', 'embeddings_v2'],
      routes: [
        { name: 'embedding_generator_v2', input_stage: 'markdown_segmented', output_stage: 'embeddings_v2' },
      ],
      entry_route: 'embedding_generator_v2',
    })
  ).id;
  parentId = (await createExecution(stack, configId, { tag: 'fuzz-parent' })).id;
  // small outputs: the valid replays run to completion while the fuzzing goes on
  await seedOutputs(stack, parentId, 'markdown_segmented', 2);
  await seedOutputs(stack, parentId, 'markdown_segmented', 1, { folder: 'docs/' });
  accepted.configs.add(configId).add(otherConfigId);
  accepted.executions.add(parentId);
  acceptedList.push(parentId);
  // the document is open: no key needed
  const response = await stack.app.request('/openapi.json');
  expect(response.status).toBe(200);
  document = (await response.json()) as Schema;
});

afterAll(async () => stack?.close());

/** Follows a local `$ref` of the document. */
function resolve(ref: string): Schema {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<any>((node, part) => node?.[part.replaceAll('~1', '/').replaceAll('~0', '~')], document);
}

const refName = (ref: string) => ref.slice(ref.lastIndexOf('/') + 1);

// ---------------------------------------------------------------------------------------------
// JSON schema (the subset the document uses) to fast-check arbitraries

/** Values that make a request reach the deep checks: real ids, stages, routes, tags, paths. */
function hints(): Record<string, fc.Arbitrary<unknown>> {
  const knownExecution = fc.nat().map((index) => acceptedList[index % acceptedList.length] ?? parentId);
  const knownOf = (ids: string[]) => fc.nat().map((index) => ids[index % ids.length] ?? UNKNOWN_ID);
  const mostly = <T>(likely: fc.Arbitrary<T>, others: fc.Arbitrary<T>) =>
    fc.oneof({ arbitrary: likely, weight: 3 }, { arbitrary: others, weight: 1 });
  return {
    execution_id: mostly(
      fc.constantFrom(parentId, 'fuzz-parent'),
      fc.oneof(fc.constant(UNKNOWN_ID), knownExecution),
    ),
    execution_ids: fc.array(mostly(fc.constantFrom(parentId, 'fuzz-parent'), fc.constant(UNKNOWN_ID)), {
      minLength: 1,
      maxLength: 3,
    }),
    bulk_replay_id: mostly(knownOf(handedOut.bulkReplays), fc.constant(UNKNOWN_ID)),
    preview_id: mostly(knownOf(handedOut.previews), fc.constant(UNKNOWN_ID)),
    config_id: mostly(fc.constant(configId), fc.constantFrom(otherConfigId, UNKNOWN_ID)),
    parent_execution_id: fc.oneof(fc.constant(parentId), knownExecution),
    from_stage: mostly(fc.constant('markdown_segmented'), fc.constantFrom('markdown', 'embeddings', 'nope')),
    to_route: mostly(
      fc.constant('embedding_generator'),
      fc.constantFrom('embedding_generator_v2', 'markdown_segmenter', 'nope'),
    ),
    from_path: mostly(
      fc.constantFrom(null, '', 'docs/', 'docs', 'doc-000000.json', './docs//'),
      fc.constantFrom(
        '../x',
        '%2e%2e/x',
        '%2e%2e/%zz',
        '/etc/passwd',
        'a\\b',
        '..%c0%af',
        '\uff0e\uff0e/x',
        '\uff05\uff12\uff45\uff05\uff12\uff45/x',
        'docs%2f..%2f..',
        'x'.repeat(1025),
      ),
    ),
    tag: mostly(fc.stringMatching(/^[a-z][a-z0-9:.-]{5,20}$/), fc.constant('fuzz-parent')),
    metadata: fc.oneof(
      fc.constant(null),
      fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    ),
    'idempotency-key': fc.oneof(
      fc.constantFrom('fuzz-key-1', 'fuzz-key-2'),
      fc.stringMatching(/^[A-Za-z0-9-]{1,32}$/),
    ),
    limit: fc.integer({ min: 1, max: 200 }),
  };
}

/** Whole bodies, by schema name: a valid pipeline config is too unlikely to come out of its schema. */
function bodyHints(): Record<string, fc.Arbitrary<unknown>> {
  const stageName = fc.stringMatching(/^[a-z][a-z0-9_]{0,12}$/);
  const validConfig = fc.uniqueArray(stageName, { minLength: 1, maxLength: 4 }).chain((stages) =>
    fc
      .uniqueArray(
        fc.record({
          name: stageName,
          input_stage: fc.constantFrom(...stages),
          output_stage: fc.option(fc.constantFrom(...stages), { nil: null }),
        }),
        { minLength: 1, maxLength: 3, selector: (route) => route.name },
      )
      .chain((routes) =>
        fc.record({
          name: fc.string({ minLength: 1, maxLength: 30 }),
          stages: fc.constant(stages),
          routes: fc.constant(routes),
          entry_route: fc.constantFrom(...routes.map((route) => route.name)),
        }),
      ),
  );
  return { PipelineConfigCreate: validConfig };
}

/** An object schema with one of its alternatives applied: its fields required, its `not null`s kept. */
function constrained(base: Schema, alternative: Schema): Schema {
  const properties: Record<string, Schema> = { ...base.properties };
  for (const [key, rule] of Object.entries((alternative.properties ?? {}) as Record<string, Schema>)) {
    const property = properties[key];
    if (rule.not?.type === 'null' && property && Array.isArray(property.type))
      properties[key] = { ...property, type: property.type.filter((type: string) => type !== 'null') };
  }
  return {
    ...base,
    properties,
    required: [...new Set([...(base.required ?? []), ...(alternative.required ?? [])])],
  };
}

function stringOf(schema: Schema): fc.Arbitrary<string> {
  if (schema.format === 'uuid') return fc.uuid();
  if (schema.format === 'date-time')
    // RFC 3339 has four-digit years: toISOString() writes others as +275760-…
    return fc
      .date({
        noInvalidDate: true,
        min: new Date('1970-01-01T00:00:00Z'),
        max: new Date('9999-12-31T23:59:59Z'),
      })
      .map((date) => date.toISOString());
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? Infinity;
  if (schema.pattern) {
    return fc
      .stringMatching(new RegExp(schema.pattern))
      .filter((text) => text.length >= min && text.length <= max);
  }
  return fc.string({ minLength: min, maxLength: Math.max(min, Math.min(max, 40)) });
}

function arbitraryOf(
  schema: Schema,
  name: string | undefined,
  context: { hints: Record<string, fc.Arbitrary<unknown>>; bodies: Record<string, fc.Arbitrary<unknown>> },
  depth = 0,
): fc.Arbitrary<unknown> {
  if (schema.$ref) {
    const generic = arbitraryOf(resolve(schema.$ref), name, context, depth);
    const whole = context.bodies[refName(schema.$ref)];
    return whole ? fc.oneof({ arbitrary: whole, weight: 3 }, { arbitrary: generic, weight: 1 }) : generic;
  }
  const generic = genericOf(schema, context, depth);
  const hint = name ? context.hints[name] : undefined;
  return hint ? fc.oneof({ arbitrary: hint, weight: 4 }, { arbitrary: generic, weight: 1 }) : generic;
}

function genericOf(
  schema: Schema,
  context: Parameters<typeof arbitraryOf>[2],
  depth: number,
): fc.Arbitrary<unknown> {
  const alternatives: Schema[] | undefined = schema.anyOf ?? schema.oneOf;
  if (alternatives && schema.properties) {
    // alternatives beside properties only constrain them (which fields are required, and not null)
    const { anyOf: _anyOf, oneOf: _oneOf, ...base } = schema;
    return fc.oneof(...alternatives.map((item) => genericOf(constrained(base, item), context, depth)));
  }
  if (alternatives)
    return fc.oneof(...alternatives.map((item) => arbitraryOf(item, undefined, context, depth)));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.const !== undefined) return fc.constant(schema.const);
  const types: string[] = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length > 1)
    return fc.oneof(...types.map((type) => genericOf({ ...schema, type }, context, depth)));
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000 });
    case 'number':
      return fc.double({
        noNaN: true,
        noDefaultInfinity: true,
        // JSON Schema 2020: exclusiveMinimum and exclusiveMaximum are bounds of their own
        min: schema.minimum ?? schema.exclusiveMinimum ?? -1e6,
        max: schema.maximum ?? schema.exclusiveMaximum ?? 1e6,
        minExcluded: schema.minimum === undefined && schema.exclusiveMinimum !== undefined,
        maxExcluded: schema.maximum === undefined && schema.exclusiveMaximum !== undefined,
      });
    case 'string':
      return stringOf(schema);
    case 'array':
      return fc.array(arbitraryOf(schema.items ?? {}, undefined, context, depth + 1), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 4, 4)),
      });
    case 'object': {
      if (schema.properties) {
        // a readOnly property is the service's to set: a request that sends it is refused (422)
        const entries = Object.entries(schema.properties as Record<string, Schema>)
          .filter(([, item]) => !item.readOnly)
          .map(([key, item]) => [key, arbitraryOf(item, key, context, depth + 1)] as const);
        return fc.record(Object.fromEntries(entries), { requiredKeys: schema.required ?? [] });
      }
      // a record (additionalProperties)
      const values = depth > 3 ? fc.integer() : fc.jsonValue({ maxDepth: 2 });
      return fc.dictionary(fc.string({ maxLength: 10 }), values, { maxKeys: 4 });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

// ---------------------------------------------------------------------------------------------
// Mutations: what a hostile or careless client sends

const LONE_SURROGATE = /[\uD800-\uDFFF]/;
const oddStrings = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udfff',
    '\u202e\u0645',
    '\ud83d\ude00',
    '\uff0e\uff0e/',
    '\uff05\uff10\uff10',
    ' ',
    '\t\n',
    "'; DROP TABLE executions; --",
    '$1',
    '{{7*7}}',
    '<script>',
  ),
);
const hugeString = fc
  .constantFrom(129, 201, 1025, 20_000, 300_000, 1_100_000)
  .map((size) => 'x'.repeat(size));
const wrongType = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }),
);
const nested = fc.tuple(fc.integer({ min: 1, max: 60 }), fc.boolean()).map(([levels, arrays]) => {
  let value: unknown = 'leaf';
  for (let level = 0; level < levels; level += 1) value = arrays ? [value] : { level: value };
  return value;
});

type Mutation = (spec: RequestSpec) => RequestSpec;

const pick = <T>(items: T[], index: number): T | undefined => items[index % Math.max(items.length, 1)];
const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function withBodyKey(
  spec: RequestSpec,
  index: number,
  change: (body: Record<string, unknown>, key: string) => void,
) {
  if (!isObject(spec.body)) return spec;
  const body = { ...spec.body };
  const key = pick(Object.keys(body), index) ?? 'unknown_field';
  change(body, key);
  return { ...spec, body };
}

const mutations: fc.Arbitrary<Mutation> = fc.oneof(
  // a field missing (often a required one), or of the wrong type
  fc.nat().map(
    (index): Mutation =>
      (spec) =>
        withBodyKey(spec, index, (body, key) => delete body[key]),
  ),
  fc.tuple(fc.nat(), wrongType).map(
    ([index, value]): Mutation =>
      (spec) =>
        withBodyKey(spec, index, (body, key) => (body[key] = value)),
  ),
  // huge, odd Unicode, deeply nested values in a field, or in metadata, or in an unknown field
  fc.tuple(fc.nat(), fc.oneof(hugeString, oddStrings, nested)).map(
    ([index, value]): Mutation =>
      (spec) =>
        withBodyKey(spec, index, (body, key) => (body[key] = value)),
  ),
  fc
    .tuple(
      fc.constantFrom('metadata', 'extra'),
      fc.oneof(nested, oddStrings, hugeString),
      fc.string({ maxLength: 6 }),
    )
    .map(
      ([field, value, key]): Mutation =>
        (spec) =>
          isObject(spec.body) ? { ...spec, body: { ...spec.body, [field]: { [key]: value } } } : spec,
    ),
  // not an object, not JSON, another content type
  fc
    .constantFrom(
      '[]',
      'null',
      '1',
      '"x"',
      'true',
      '{',
      '',
      '{"a":',
      'not json',
      '\u0000',
      '{"replay_source":"storage"}}',
    )
    .map((text): Mutation => (spec) => ({ ...spec, body: text })),
  fc
    .constantFrom(
      null,
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; charset=utf-8',
      'application/vnd.api+json',
      'multipart/form-data; boundary=x',
    )
    .map(
      (contentType): Mutation =>
        (spec) =>
          spec.body === undefined ? spec : { ...spec, contentType },
    ),
  // hostile path parameters
  fc
    .tuple(
      fc.nat(),
      fc.oneof(
        oddStrings,
        hugeString.map((text) => text.slice(0, 3000)),
        fc.constantFrom('%00', '%2e%2e', '..', '.', 'a/b', '%2F', '\u0000'),
      ),
    )
    .map(([index, value]): Mutation => (spec) => {
      const key = pick(Object.keys(spec.pathParams), index);
      return key ? { ...spec, pathParams: { ...spec.pathParams, [key]: value } } : spec;
    }),
  // query parameters: wrong types, out of range, repeated, unknown
  fc
    .tuple(
      fc.constantFrom('limit', 'status', 'cursor', 'parent_execution_id', 'tag', 'unknown'),
      fc.oneof(
        fc.constantFrom('abc', '-1', '0', '201', '1e3', '', '99999999999999999999', '\u0000'),
        oddStrings,
      ),
    )
    .map(([name, value]): Mutation => (spec) => ({ ...spec, query: [...spec.query, [name, value]] })),
  // an Idempotency-Key too long, or odd (headers carry Latin-1 only)
  fc
    .oneof(
      fc.constantFrom(256, 300, 4000).map((size) => 'k'.repeat(size)),
      fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 20 }),
    )
    .map((value): Mutation => (spec) => ({
      ...spec,
      headers: { ...spec.headers, 'idempotency-key': value },
    })),
);

// ---------------------------------------------------------------------------------------------
// Requests of one operation

function requestsOf(operation: Operation): fc.Arbitrary<RequestSpec> {
  const context = { hints: hints(), bodies: bodyHints() };
  const parameters: Schema[] = operation.spec.parameters ?? [];
  const ofIn = (where: string) => parameters.filter((parameter) => parameter.in === where);
  const valueOf = (parameter: Schema) => arbitraryOf(parameter.schema ?? {}, parameter.name, context);
  const record = (items: Schema[]): fc.Arbitrary<Record<string, unknown>> => {
    const model: Record<string, fc.Arbitrary<unknown>> = Object.fromEntries(
      items.map((item) => [item.name as string, valueOf(item)]),
    );
    const requiredKeys: string[] = items.filter((item) => item.required).map((item) => item.name as string);
    return fc.record(model, { requiredKeys });
  };
  const bodySchema = operation.spec.requestBody?.content?.['application/json']?.schema;
  const valid = fc
    .record({
      pathParams: record(ofIn('path')),
      query: record(ofIn('query')),
      headers: record(ofIn('header')),
      body: bodySchema ? arbitraryOf(bodySchema, undefined, context) : fc.constant(undefined),
    })
    .map(({ pathParams, query, headers, body }): RequestSpec => ({
      pathParams: Object.fromEntries(Object.entries(pathParams).map(([key, value]) => [key, String(value)])),
      query: Object.entries(query).map(([key, value]) => [key, String(value)]),
      headers: Object.fromEntries(Object.entries(headers).map(([key, value]) => [key, String(value)])),
      body,
    }));
  return fc
    .tuple(valid, fc.array(mutations, { maxLength: 2 }), fc.nat(9))
    .map(([spec, changes, dice]) =>
      dice < 4 ? spec : changes.reduce((current, change) => change(current), spec),
    );
}

function toRequest(operation: Operation, spec: RequestSpec): Sent | undefined {
  let path = operation.path;
  for (const [name, value] of Object.entries(spec.pathParams)) {
    if (LONE_SURROGATE.test(value)) return undefined; // not expressible in a URL
    path = path.replace(`{${name}}`, encodeURIComponent(value));
  }
  const query = spec.query
    .filter(([, value]) => !LONE_SURROGATE.test(value))
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&');
  const headers: Record<string, string> = { ...stack.authHeaders };
  for (const [name, value] of Object.entries(spec.headers)) {
    // a header value is a ByteString
    if (/^[\x20-\x7e\x80-\xff]*$/.test(value)) headers[name] = value;
  }
  let body: string | undefined;
  if (spec.body !== undefined && operation.method !== 'get') {
    body = typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body);
    const contentType = spec.contentType === undefined ? 'application/json' : spec.contentType;
    if (contentType) headers['content-type'] = contentType;
  }
  return {
    operation: `${operation.method.toUpperCase()} ${operation.path}`,
    method: operation.method.toUpperCase(),
    url: query ? `${path}?${query}` : path,
    headers,
    body,
  };
}

// ---------------------------------------------------------------------------------------------
// Checks

function responseValidators() {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  (addFormatsPlugin as unknown as (instance: Ajv2020) => void)(ajv);
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!isObject(node)) return node;
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [
        key,
        key === '$ref' && typeof value === 'string' ? `openapi${value}` : rewrite(value),
      ]),
    );
  };
  ajv.addSchema({ $id: 'openapi', components: rewrite(document.components) });
  const cache = new Map<string, ValidateFunction>();
  return (schema: Schema, key: string): ValidateFunction => {
    let validate = cache.get(key);
    if (!validate) {
      validate = ajv.compile(rewrite(schema) as Schema);
      cache.set(key, validate);
    }
    return validate;
  };
}

/**
 * Executions and bulk replays written by requests. The children of an accepted bulk replay are
 * written by its workflow, later, whatever request comes next: they are not counted.
 */
async function executionCount(): Promise<string> {
  const { rows } = await stack.pool.query(
    `SELECT (SELECT count(*) FROM executions e
              WHERE NOT EXISTS (SELECT 1 FROM bulk_replay_items i WHERE i.execution_id = e.id))
            || '/' || (SELECT count(*) FROM bulk_replays) AS n`,
  );
  return rows[0].n;
}

/** Messages of executions no accepted request created: a refused request that published. */
async function strayMessages(): Promise<number> {
  const queue = stack.config.PGBOSS_SCHEMA;
  const { rows } = await stack.pool.query(
    `WITH accepted AS (
       SELECT unnest($1::text[]) AS id UNION SELECT execution_id::text FROM bulk_replay_items
     )
     SELECT (SELECT count(*) FROM ${queue}.job WHERE data->>'execution_id' NOT IN (SELECT id FROM accepted WHERE id IS NOT NULL))
          + (SELECT count(*) FROM ${queue}.archive WHERE data->>'execution_id' NOT IN (SELECT id FROM accepted WHERE id IS NOT NULL)) AS n`,
    [acceptedList],
  );
  return Number(rows[0].n);
}

function describeRequest(sent: Sent): string {
  const body =
    sent.body === undefined
      ? ''
      : ` ${sent.body.length > 300 ? `${sent.body.slice(0, 300)}… (${sent.body.length} chars)` : sent.body}`;
  return `${sent.method} ${sent.url.slice(0, 300)} ${JSON.stringify({ ...sent.headers, authorization: undefined })}${body}`;
}

describe('fuzzing from /openapi.json', () => {
  it('answers every generated request below 500, as documented, and writes nothing when it refuses', async () => {
    const operations: Operation[] = Object.entries(document.paths as Record<string, Schema>).flatMap(
      ([path, item]) =>
        Object.entries(item)
          .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
          .map(([method, spec]) => ({ method, path, spec: spec as Schema })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(9);
    const validatorFor = responseValidators();
    const tally = new Map<string, Map<number, number>>();
    let sentCount = 0;
    const started = Date.now();

    // the replay endpoint, the one of the contract, gets three times the share of the others
    const requests = fc.oneof(
      ...operations.map((operation) => ({
        arbitrary: requestsOf(operation).map((spec) => toRequest(operation, spec)),
        weight: operation.path.endsWith('/replay') ? 3 : 1,
      })),
    );
    await fc.assert(
      fc.asyncProperty(requests, async (sent) => {
        if (!sent) return;
        const before = await executionCount();
        const response = await stack.app.request(sent.url, {
          method: sent.method,
          headers: sent.headers,
          body: sent.body,
        });
        const text = await response.text();
        sentCount += 1;
        const counts = tally.get(sent.operation) ?? new Map<number, number>();
        counts.set(response.status, (counts.get(response.status) ?? 0) + 1);
        tally.set(sent.operation, counts);
        const what = `${describeRequest(sent)}\n-> ${response.status} ${text.slice(0, 500)}`;

        expect(response.status, what).toBeLessThan(500);
        expect(response.headers.get('content-type') ?? '', what).toContain('application/json');
        const body = JSON.parse(text);

        const [method, path] = [sent.method.toLowerCase(), sent.operation.split(' ')[1]!];
        // every status an operation answers is declared on it; 405 is a path's (a hostile path
        // parameter can make the URL another path), declared once in components.responses
        const documented = document.paths[path][method].responses[String(response.status)];
        const reference = documented?.$ref ?? (response.status === 405 ? SHARED_RESPONSES[405] : undefined);
        const declared = reference ? document.components.responses[refName(reference)] : documented;
        expect(
          declared,
          `status ${response.status} is not documented for ${sent.operation}\n${what}`,
        ).toBeDefined();
        const schema = declared.content?.['application/json']?.schema;
        expect(schema, what).toBeDefined();
        const validate = validatorFor(schema, `${sent.operation} ${response.status}`);
        expect(validate(body), `${JSON.stringify(validate.errors)}\n${what}`).toBe(true);

        if (response.status >= 200 && response.status < 300) {
          if (sent.operation === 'POST /api/v1/bulk-replays') handedOut.bulkReplays.push(body.id);
          if (sent.operation.endsWith('/replay/preview')) handedOut.previews.push(body.id);
          if (sent.operation === 'POST /api/v1/configs') accepted.configs.add(body.id);
          else if (typeof body.id === 'string' && !accepted.executions.has(body.id)) {
            accepted.executions.add(body.id);
            acceptedList.push(body.id);
          }
        } else {
          expect(await executionCount(), `a refused request wrote an execution\n${what}`).toBe(before);
          expect(await strayMessages(), `a message of no accepted execution\n${what}`).toBe(0);
        }
      }),
      {
        numRuns: REQUESTS,
        interruptAfterTimeLimit: TIME_LIMIT_MS,
        markInterruptAsFailure: false,
        endOnFailure: true,
        ...(SEED === undefined ? {} : { seed: SEED }),
      },
    );

    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const summary = [...tally.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([operation, counts]) => {
        const statuses = [...counts.entries()]
          .sort(([a], [b]) => a - b)
          .map(([status, n]) => `${status}: ${n}`);
        return `  ${operation}  ${statuses.join(', ')}`;
      });
    process.stderr.write(`[fuzz] ${sentCount} requests in ${seconds} s\n${summary.join('\n')}\n`);
    expect(sentCount).toBeGreaterThanOrEqual(Math.min(REQUESTS, 1000));
    expect(tally.size).toBe(operations.length);
    // the valid ones did reach the deep checks and start replays
    expect(tally.get('POST /api/v1/executions/{execution_id}/replay')?.get(200) ?? 0).toBeGreaterThan(0);
    expect(tally.get('POST /api/v1/bulk-replays')?.get(202) ?? 0).toBeGreaterThan(0);

    // once the accepted replays have finished: every row and message belongs to an accepted request
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { rows } = await stack.pool.query(
        "SELECT count(*)::int AS n FROM executions WHERE status = 'running' AND parent_execution_id IS NOT NULL",
      );
      if (rows[0].n === 0 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // the children of accepted bulk replays are accepted too
    const children = await stack.pool.query(
      `SELECT i.execution_id::text AS id FROM bulk_replay_items i
         JOIN bulk_replays b ON b.id = i.bulk_replay_id WHERE i.execution_id IS NOT NULL`,
    );
    for (const { id } of children.rows) accepted.executions.add(id);
    const bulks = (await stack.pool.query('SELECT id::text FROM bulk_replays')).rows.map((row) => row.id);
    expect(bulks.filter((id) => !accepted.executions.has(id))).toEqual([]);
    const ids = (await stack.pool.query('SELECT id::text FROM executions')).rows.map((row) => row.id);
    expect(ids.filter((id) => !accepted.executions.has(id))).toEqual([]);
    const configs = (await stack.pool.query('SELECT id::text FROM pipeline_configs')).rows.map(
      (row) => row.id,
    );
    expect(configs.filter((id) => !accepted.configs.has(id))).toEqual([]);
    const routes = await stack.pool.query(
      'SELECT DISTINCT execution_id::text AS id FROM execution_routes UNION SELECT execution_id::text FROM idempotency_keys',
    );
    expect(routes.rows.map((row) => row.id).filter((id) => !accepted.executions.has(id))).toEqual([]);
    expect(await strayMessages()).toBe(0);
  });
});
