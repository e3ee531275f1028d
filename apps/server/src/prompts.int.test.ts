import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFamilyReference, maxAbsDiff, modelDir } from '@embedder-rag/test-fixtures';
import type { RunningServer } from './server';
import { call, startTestServer } from './test-helpers';

// TEI's prompt_name on a model whose config_sentence_transformers.json defines prompts (issue 16).
describe('prompt_name', () => {
  const rows = loadFamilyReference('tiny-xlm-roberta').filter((row) => row.prompt_name === 'query');
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ models: [modelDir('test-fixtures/tiny-xlm-roberta')] });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('/embed with prompt_name gives the reference vectors of the prompted texts', async () => {
    const { status, body } = await call<number[][]>(server.url, 'POST', '/embed', { inputs: rows.map((row) => row.text), prompt_name: 'query' });
    expect(status).toBe(200);
    expect(Math.max(...rows.map((row, i) => maxAbsDiff(body[i]!, row.embedding)))).toBeLessThanOrEqual(1e-5);
    const plain = await call<number[][]>(server.url, 'POST', '/embed', { inputs: rows[0]!.text });
    expect(maxAbsDiff(plain.body[0]!, rows[0]!.embedding)).toBeGreaterThan(1e-3);
  });

  it('/tokenize with prompt_name includes the prompt tokens', async () => {
    const { status, body } = await call<{ id: number }[][]>(server.url, 'POST', '/tokenize', { inputs: rows[0]!.text, prompt_name: 'query' });
    expect(status).toBe(200);
    expect(body[0]!.map((token) => token.id)).toEqual(rows[0]!.input_ids);
  });

  it('an unknown prompt_name is a 422 naming the prompts the model has', async () => {
    const { status, text } = await call(server.url, 'POST', '/embed', { inputs: 'hello', prompt_name: 'document' });
    expect(status).toBe(422);
    expect(text).toContain('query, passage');
  });
});
