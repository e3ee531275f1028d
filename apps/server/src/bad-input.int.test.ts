import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from './server';
import { call, startTestServer, type Answer } from './test-helpers';

const KEY = 'test-key-123';
const auth = { authorization: `Bearer ${KEY}` };

/** Every bad input gets the contract's status and a JSON body that names the field or limit; never a 500. */
describe('bad input', () => {
  let server: RunningServer;
  let base: string;
  beforeAll(async () => {
    server = await startTestServer({ apiKey: KEY, payloadLimit: 500_000, corsOrigin: 'https://app.example' });
    base = server.url;
  });
  afterAll(async () => {
    await server?.close();
  });

  const tei = (answer: Answer, status: number, type: string, mentions: string | RegExp) => {
    expect(answer.status, answer.text).toBe(status);
    expect(answer.headers.get('content-type')).toContain('application/json');
    const body = answer.body as { error: string; error_type: string };
    expect(body.error_type).toBe(type);
    expect(body.error).toMatch(mentions);
  };

  it('invalid JSON → 400', async () => {
    tei(await call(base, 'POST', '/embed', '{"inputs": ', auth), 400, 'Validation', /not valid JSON/);
  });

  it('a validation message names the field once, by its JSON path', async () => {
    const message = async (path: string, body: unknown) => ((await call(base, 'POST', path, body, auth)).body as { error: string }).error;
    expect(await message('/embed', { inputs: 42 })).toBe('invalid request body: `inputs` must be a string or an array (got integer)');
    expect(await message('/embed', {})).toBe('invalid request body: `inputs` is required');
    expect(await message('/embed', { inputs: [{ text: 'x' }] })).toBe('invalid request body: `inputs[0]` must be an integer, a string or an array (got object)');
    expect(await message('/decode', { ids: [[-1]] })).toBe('invalid request body: `ids[0][0]` must be >= 0');
    expect(await message('/similarity', { inputs: { source_sentence: 'a' } })).toBe('invalid request body: `inputs.sentences` is required');
    expect(await message('/embed', [1])).toBe('invalid request body: the body must be an object (got array)');
  });

  it('decoding an empty id list is the empty text, not a 500', async () => {
    const answer = await call(base, 'POST', '/decode', { ids: [[]] }, auth);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toEqual(['']);
  });

  it('wrong types → 422 naming the field', async () => {
    tei(await call(base, 'POST', '/embed', { inputs: 5 }, auth), 422, 'Validation', /inputs/);
    tei(await call(base, 'POST', '/embed', { inputs: 'x', normalize: 'yes' }, auth), 422, 'Validation', /normalize/);
    tei(await call(base, 'POST', '/embed', { inputs: [{ text: 'x' }] }, auth), 422, 'Validation', /inputs/);
    tei(await call(base, 'POST', '/embed', { text: 'x' }, auth), 422, 'Validation', /inputs/);
    tei(await call(base, 'POST', '/embed', { inputs: 'x', truncation_direction: 'middle' }, auth), 422, 'Validation', /truncation_direction/);
    tei(await call(base, 'POST', '/tokenize', { inputs: 7 }, auth), 422, 'Validation', /inputs/);
    tei(await call(base, 'POST', '/decode', { ids: ['a'] }, auth), 422, 'Validation', /ids/);
    tei(await call(base, 'POST', '/similarity', { inputs: { source_sentence: 'a' } }, auth), 422, 'Validation', /sentences/);
  });

  it('empty inputs and empty strings → 400 Empty', async () => {
    tei(await call(base, 'POST', '/embed', { inputs: [] }, auth), 400, 'Empty', /`inputs` cannot be empty/);
    tei(await call(base, 'POST', '/embed', { inputs: '' }, auth), 400, 'Empty', /inputs\[0\]/);
    tei(await call(base, 'POST', '/embed', { inputs: ['ok', ''] }, auth), 400, 'Empty', /inputs\[1\]/);
    tei(await call(base, 'POST', '/similarity', { inputs: { source_sentence: 'a', sentences: [] } }, auth), 400, 'Empty', /sentences/);
    const openai = await call<{ message: string; code: number; type: string }>(base, 'POST', '/v1/embeddings', { input: [] }, auth);
    expect(openai.status).toBe(400);
    expect(openai.body).toMatchObject({ code: 400, type: 'Empty' });
    expect(openai.body.message).toContain('input');
  });

  it('a body over the payload limit → 413 JSON naming the limit', async () => {
    const big = { inputs: ['x'.repeat(600_000)] };
    tei(await call(base, 'POST', '/embed', big, auth), 413, 'Validation', /500000 bytes/);
  });

  it('a 100,000-character text: truncate true → 200, false → 413 naming the 256-token limit', async () => {
    const text = 'lorem ipsum dolor sit amet '.repeat(3704).slice(0, 100_000);
    expect(text).toHaveLength(100_000);
    const cut = await call<number[][]>(base, 'POST', '/embed', { inputs: text, truncate: true }, auth);
    expect(cut.status).toBe(200);
    expect(cut.body[0]).toHaveLength(384);
    expect(cut.headers.get('x-compute-tokens')).toBe('256');
    tei(await call(base, 'POST', '/embed', { inputs: text, truncate: false }, auth), 413, 'Validation', /256/);
  });

  it('dimensions 0 and 10,000 → 422 naming the range', async () => {
    tei(await call(base, 'POST', '/embed', { inputs: 'x', dimensions: 0 }, auth), 422, 'Validation', /dimensions/);
    tei(await call(base, 'POST', '/embed', { inputs: 'x', dimensions: 10_000 }, auth), 422, 'Validation', /dimensions must be from 1 to 384/);
    const openai = await call<{ message: string; code: number }>(base, 'POST', '/v1/embeddings', { input: 'x', dimensions: 10_000 }, auth);
    expect(openai.status).toBe(422);
    expect(openai.body).toMatchObject({ code: 422, type: 'Validation' });
    expect(openai.body.message).toMatch(/1 to 384/);
  });

  it('with one served model, any `model` name is served by it and the answer names the model that ran', async () => {
    const answer = await call<Record<string, unknown>>(base, 'POST', '/v1/embeddings', { input: 'x', model: 'text-embedding-ada-002' }, auth);
    expect(answer.status).toBe(200);
    expect(answer.body.model).toBe('all-minilm-l6-v2');
    expect((await call(base, 'POST', '/embed', { inputs: 'x', model: 'bge-m3' }, auth)).status).toBe(200);
  });

  it('a missing or wrong API key → 401 JSON; /health and /ready stay open', async () => {
    tei(await call(base, 'POST', '/embed', { inputs: 'x' }), 401, 'Unauthorized', /API key/);
    tei(await call(base, 'POST', '/embed', { inputs: 'x' }, { authorization: 'Bearer wrong' }), 401, 'Unauthorized', /API key/);
    tei(await call(base, 'GET', '/metrics', undefined, { authorization: KEY }), 401, 'Unauthorized', /Bearer/);
    const openai = await call(base, 'POST', '/v1/embeddings', { input: 'x' });
    expect(openai.status).toBe(401);
    expect(openai.body).toMatchObject({ code: 401, type: 'Unauthorized' });
    expect((await call(base, 'GET', '/health')).status).toBe(200);
    expect((await call(base, 'GET', '/ready')).status).toBe(200);
    expect((await call(base, 'POST', '/embed', { inputs: 'x' }, auth)).status).toBe(200);
  });

  it('a wrong content type → 415, a missing body → 400', async () => {
    const answer = await call(base, 'POST', '/embed', 'inputs=x', { ...auth, 'content-type': 'text/plain' });
    expect(answer.status).toBe(415);
    const empty = await call(base, 'POST', '/embed', undefined, { ...auth, 'content-type': 'application/json' });
    expect([400, 422]).toContain(empty.status);
  });

  it('CORS answers for the configured origin only', async () => {
    const preflight = await fetch(`${base}/embed`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await call(base, 'POST', '/embed', { inputs: 'x' }, { ...auth, origin: 'https://evil.example' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('after all that the service answers normally and never answered 500', async () => {
    expect((await call(base, 'GET', '/health')).status).toBe(200);
    const metrics = await call(base, 'GET', '/metrics', undefined, auth);
    expect(metrics.text).not.toMatch(/err="internal"/);
    const ok = await call<number[][]>(base, 'POST', '/embed', { inputs: ['still fine'] }, auth);
    expect(ok.status).toBe(200);
  });
});
