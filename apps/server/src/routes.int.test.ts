import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosine, loadMiniLmReference, modelDir } from '@embedder-rag/test-fixtures';
import type { RunningServer } from './server';
import { call, startTestServer } from './test-helpers';

const reference = loadMiniLmReference();
const byText = (text: string) => reference.find((row) => row.text === text)!;
const norm = (vector: number[]) => Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));

// Every route against the contract (../shared/design/HTTP-API.md), on a real server with the real model.
describe('routes', () => {
  let server: RunningServer;
  let base: string;
  beforeAll(async () => {
    server = await startTestServer({ models: ['all-minilm-l6-v2', modelDir('test-fixtures/tiny-bert')] });
    base = server.url;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('GET /info has every TEI field', async () => {
    const { status, body } = await call<Record<string, unknown>>(base, 'GET', '/info');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      model_id: 'sentence-transformers/all-MiniLM-L6-v2',
      model_dtype: 'float32',
      served_model_name: 'all-minilm-l6-v2',
      model_type: { embedding: { pooling: 'mean' } },
      max_concurrent_requests: 512,
      max_input_length: 256,
      max_client_batch_size: 2048,
      auto_truncate: true,
      tokenization_workers: 1,
      version: '0.1.0',
      models: ['all-minilm-l6-v2', modelDir('test-fixtures/tiny-bert')],
    });
    for (const key of ['model_sha', 'max_batch_tokens', 'max_batch_requests']) expect(body).toHaveProperty(key);
    expect(typeof body.max_batch_tokens).toBe('number');
  });

  it('POST /embed: a string → one row; a batch → rows in input order; timing headers', async () => {
    const one = await call<number[][]>(base, 'POST', '/embed', { inputs: 'hello world' });
    expect(one.status).toBe(200);
    expect(one.body).toHaveLength(1);
    expect(one.body[0]).toHaveLength(384);
    expect(cosine(one.body[0]!, byText('hello world').embedding)).toBeGreaterThanOrEqual(0.99999);
    for (const header of ['x-total-time', 'x-tokenization-time', 'x-queue-time', 'x-inference-time']) {
      expect(one.headers.get(header), header).toMatch(/^\d+$/);
    }
    expect(one.headers.get('x-compute-tokens')).toBe('4');
    expect(one.headers.get('x-compute-characters')).toBe('11');

    const rows = reference.slice(0, 40);
    const batch = await call<number[][]>(base, 'POST', '/embed', { inputs: rows.map((row) => row.text) });
    expect(batch.status).toBe(200);
    batch.body.forEach((vector, i) => expect(cosine(vector, rows[i]!.embedding)).toBeGreaterThanOrEqual(0.99999));
  });

  it('POST /embed options: normalize false, dimensions, truncation_direction, pre-tokenized ids', async () => {
    const raw = await call<number[][]>(base, 'POST', '/embed', { inputs: 'hello world', normalize: false });
    expect(norm(raw.body[0]!)).not.toBeCloseTo(1, 3);
    const cut = await call<number[][]>(base, 'POST', '/embed', { inputs: ['hello world'], dimensions: 128 });
    expect(cut.body[0]).toHaveLength(128);
    expect(norm(cut.body[0]!)).toBeCloseTo(1, 5);
    const left = await call<number[][]>(base, 'POST', '/embed', { inputs: 'hello world', truncate: true, truncation_direction: 'Left' });
    expect(left.status).toBe(200);
    // [CLS] hello world [SEP], as TEI accepts pre-tokenized inputs.
    const ids = await call<number[][]>(base, 'POST', '/embed', { inputs: [101, 7592, 2088, 102] });
    expect(ids.status).toBe(200);
    expect(cosine(ids.body[0]!, byText('hello world').embedding)).toBeGreaterThanOrEqual(0.99999);
  });

  it('POST /embed routes by model (extension) to the second served model', async () => {
    const tiny = await call<number[][]>(base, 'POST', '/embed', { inputs: ['hello world'], model: 'tiny-bert' });
    expect(tiny.status).toBe(200);
    expect(tiny.body[0]).toHaveLength(16);
  });

  it('POST /tokenize gives ids, texts, special flags and character offsets', async () => {
    const text = 'Hello, world!';
    const { status, body } = await call<{ id: number; text: string; special: boolean; start: number | null; stop: number | null }[][]>(
      base,
      'POST',
      '/tokenize',
      { inputs: text },
    );
    expect(status).toBe(200);
    expect(body).toHaveLength(1);
    const tokens = body[0]!;
    expect(tokens.map((t) => t.id)).toEqual([101, 7592, 1010, 2088, 999, 102]);
    expect(tokens[0]).toMatchObject({ id: 101, text: '[CLS]', special: true });
    expect(tokens.at(-1)).toMatchObject({ id: 102, text: '[SEP]', special: true });
    for (const token of tokens.filter((t) => !t.special)) {
      expect(text.slice(token.start!, token.stop!).toLowerCase()).toBe(token.text);
    }
    expect(tokens[1]).toMatchObject({ text: 'hello', start: 0, stop: 5 });
    const plain = await call<unknown[][]>(base, 'POST', '/tokenize', { inputs: ['a', 'b c'], add_special_tokens: false });
    expect(plain.body.map((row) => row.length)).toEqual([1, 2]);
  });

  it('POST /decode turns ids back into text', async () => {
    const { status, body } = await call<string[]>(base, 'POST', '/decode', { ids: [101, 7592, 1010, 2088, 999, 102] });
    expect(status).toBe(200);
    expect(body).toEqual(['hello, world!']);
    const kept = await call<string[]>(base, 'POST', '/decode', { ids: [[101, 7592, 102], [2088]], skip_special_tokens: false });
    expect(kept.body).toHaveLength(2);
    expect(kept.body[0]).toContain('[CLS]');
  });

  it('POST /similarity answers one cosine per sentence; top_k answers the k best', async () => {
    const inputs = {
      source_sentence: 'A man is playing a guitar.',
      sentences: ['The stock market fell sharply today.', 'A man plays the guitar.', 'A woman is slicing an onion.'],
    };
    const scores = await call<number[]>(base, 'POST', '/similarity', { inputs });
    expect(scores.status).toBe(200);
    expect(scores.body).toHaveLength(3);
    expect(scores.body[1]).toBeGreaterThan(0.8);
    expect(scores.body[1]).toBeGreaterThan(scores.body[0]!);
    const best = await call<{ index: number; score: number }[]>(base, 'POST', '/similarity', { inputs, parameters: { top_k: 1, truncation_direction: 'right' } });
    expect(best.body).toEqual([{ index: 1, score: expect.closeTo(scores.body[1]!, 5) }]);
  });

  it("accepts request bodies shaped as TEI 1.9's OpenAPI document describes them", async () => {
    const bodies: [string, unknown][] = [
      ['/embed', { inputs: 'What is Deep Learning?', normalize: true, prompt_name: null, truncate: false, truncation_direction: 'Right' }],
      ['/embed', { inputs: ['What is Deep Learning?', [101, 2054, 2003, 2784, 4083, 1029, 102]], truncate: null }],
      ['/similarity', { inputs: { source_sentence: 'What is Deep Learning?', sentences: ['What is Machine Learning?'] }, parameters: { truncate: false, truncation_direction: 'Right', prompt_name: null } }],
      ['/similarity', { inputs: { source_sentence: 'a', sentences: ['b'] }, parameters: null }],
      ['/tokenize', { inputs: 'test', add_special_tokens: true, prompt_name: null }],
      ['/decode', { ids: [101, 3231, 102], skip_special_tokens: true }],
      ['/v1/embeddings', { input: 'What is Deep Learning?', model: null, encoding_format: 'float', user: null }],
      ['/v1/embeddings', { input: [[101, 3231, 102]] }],
    ];
    for (const [path, body] of bodies) {
      const answer = await call(base, 'POST', path, body);
      expect(answer.status, `${path} ${JSON.stringify(body)}: ${answer.text}`).toBe(200);
    }
  });

  it('GET /v1/models lists every served model', async () => {
    const { body } = await call<{ object: string; data: { id: string; object: string }[] }>(base, 'GET', '/v1/models');
    expect(body.object).toBe('list');
    expect(body.data.map((model) => model.id)).toEqual(['all-minilm-l6-v2', modelDir('test-fixtures/tiny-bert')]);
  });

  it('GET /health and /ready are 200 once loaded; CORS is off by default', async () => {
    const health = await call(base, 'GET', '/health', undefined, { origin: 'https://app.example' });
    expect(health.status).toBe(200);
    expect(health.headers.get('access-control-allow-origin')).toBeNull();
    expect((await call(base, 'GET', '/ready')).status).toBe(200);
  });

  it("GET /metrics has TEI's metric names and the cache metrics", async () => {
    await call(base, 'POST', '/embed', { inputs: ['metrics one', 'metrics two'] });
    await call(base, 'POST', '/embed', { inputs: [] });
    const { status, text, headers } = await call(base, 'GET', '/metrics');
    expect(status).toBe(200);
    expect(headers.get('content-type')).toContain('text/plain');
    for (const name of [
      'te_request_count',
      'te_request_success',
      'te_request_failure',
      'te_request_duration',
      'te_request_tokenization_duration',
      'te_request_queue_duration',
      'te_request_inference_duration',
      'te_request_input_length',
      'te_batch_next_size',
      'te_batch_next_tokens',
      'te_queue_size',
      'embedder_cache_hits_total',
      'embedder_cache_misses_total',
      'embedder_cache_size',
      'embedder_cache_evictions_total',
    ]) {
      expect(text, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    expect(text).toMatch(/^te_request_failure\{err="validation"\} [1-9]/m);
    expect(text).toMatch(/^te_request_success\{method="batch"\} [1-9]/m);
    expect(text).toMatch(/^embedder_cache_size\{model="all-minilm-l6-v2"\} [1-9]/m);
  });

  it('GET /openapi.json describes every route with the same schemas', async () => {
    const { status, body } = await call<{
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { $ref?: string } }> } }>>;
      components: { schemas: Record<string, { required?: string[] }> };
    }>(base, 'GET', '/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.0.3');
    for (const path of ['/embed', '/v1/embeddings', '/embeddings', '/v1/models', '/tokenize', '/decode', '/similarity', '/info', '/health', '/ready', '/metrics']) {
      expect(body.paths, path).toHaveProperty([path]);
    }
    expect(body.paths['/embed']!.post!.requestBody!.content['application/json']!.schema.$ref).toBe('#/components/schemas/EmbedRequest');
    for (const name of ['EmbedRequest', 'EmbedResponse', 'OpenAICompatRequest', 'OpenAICompatResponse', 'TokenizeRequest', 'DecodeRequest', 'SimilarityRequest', 'Info', 'ErrorResponse']) {
      expect(body.components.schemas, name).toHaveProperty([name]);
    }
    expect(body.components.schemas.Info!.required).toContain('max_client_batch_size');
  });

  it('with several served models, an unknown model is a 404 listing the served ones (OpenAI clients see NotFoundError)', async () => {
    const answer = await call<Record<string, unknown>>(base, 'POST', '/v1/embeddings', { input: 'x', model: 'text-embedding-ada-002' });
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ code: 404, type: 'NotFound' });
    expect(answer.body.message).toMatch(/text-embedding-ada-002.*all-minilm-l6-v2, .*tiny-bert/);
    const tei = await call<Record<string, unknown>>(base, 'POST', '/embed', { inputs: 'x', model: 'nope' });
    expect(tei.status).toBe(404);
    expect(tei.body).toMatchObject({ error_type: 'NotFound' });
  });

  it('unknown paths answer 404 JSON', async () => {
    const { status, body } = await call(base, 'GET', '/nope');
    expect(status).toBe(404);
    expect(body).toMatchObject({ error_type: 'NotFound' });
  });
});
