import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { OpenAIEmbeddings } from '@langchain/openai';
import { EmbeddingGenerator } from '@embedder-rag/embedder';
import { EmbedderConfig } from '@embedder-rag/core';
import { cosine, loadMiniLmReference, modelRoot } from '@embedder-rag/test-fixtures';
import type { RunningServer } from './server';
import { startTestServer } from './test-helpers';

// Real clients against a real server: the official `openai` npm client and LangChain's OpenAIEmbeddings.
describe('OpenAI-compatible clients', () => {
  let server: RunningServer;
  let library: EmbeddingGenerator;
  let client: OpenAI;
  const reference = loadMiniLmReference();
  const texts = [...reference.filter((row) => row.kind === 'short').slice(0, 6), ...reference.filter((row) => row.kind !== 'short').slice(0, 4)];

  beforeAll(async () => {
    server = await startTestServer();
    library = await EmbeddingGenerator.create(EmbedderConfig.create({ modelPath: modelRoot(), cacheSize: 0 }));
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await library?.dispose();
  });

  it('embeddings.create (float) returns the library vectors and the real token count', async () => {
    const response = await client.embeddings.create({ model: 'all-minilm-l6-v2', input: texts.map((row) => row.text), encoding_format: 'float' });
    const expected = await library.embed(texts.map((row) => row.text));
    expect(response.object).toBe('list');
    expect(response.data).toHaveLength(texts.length);
    let worst = 1;
    response.data.forEach((item, i) => {
      expect(item.index).toBe(i);
      expect(item.embedding).toHaveLength(384);
      worst = Math.min(worst, cosine(item.embedding, expected[i]!), cosine(item.embedding, texts[i]!.embedding));
    });
    expect(worst).toBeGreaterThanOrEqual(0.99999);
    const tokens = texts.reduce((sum, row) => sum + row.tokens, 0);
    expect(response.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
    expect(tokens).toBe(library.countTokens(texts.map((row) => row.text)).reduce((a, b) => a + b, 0));
    console.info(`openai float: ${texts.length} texts, worst cosine ${worst.toFixed(8)}, prompt_tokens ${tokens}`);
  });

  it('embeddings.create (base64) decodes to the same float32 vectors', async () => {
    const input = texts.map((row) => row.text);
    const [floats, base64] = await Promise.all([
      client.embeddings.create({ model: 'all-minilm-l6-v2', input, encoding_format: 'float' }),
      client.embeddings.create({ model: 'all-minilm-l6-v2', input, encoding_format: 'base64' }),
    ]);
    // Raw HTTP too: the wire format is base64 of little-endian float32.
    const raw = await fetch(`${server.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: input[0], encoding_format: 'base64' }),
    }).then((r) => r.json() as Promise<{ data: { embedding: string }[] }>);
    const bytes = Buffer.from(raw.data[0]!.embedding, 'base64');
    expect(bytes.length).toBe(384 * 4);
    const decoded = new Float32Array(bytes.buffer, bytes.byteOffset, 384);
    // JSON numbers are the shortest decimals of the float32 values: stored as float32, they are the same bits.
    expect(decoded).toEqual(Float32Array.from(floats.data[0]!.embedding));
    // Asked for base64 explicitly, the client hands the string through; decoded, it is the float vector exactly.
    base64.data.forEach((item, i) => {
      const raw = Buffer.from(item.embedding as unknown as string, 'base64');
      expect(new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4)).toEqual(Float32Array.from(floats.data[i]!.embedding));
    });
    // Without encoding_format the client asks for base64 itself and decodes it to numbers.
    const implicit = await client.embeddings.create({ model: 'all-minilm-l6-v2', input });
    implicit.data.forEach((item, i) => expect(cosine(item.embedding, floats.data[i]!.embedding)).toBeGreaterThanOrEqual(0.99999));
  });

  it('JSON vectors read back to the exact float32 values of the base64 answer (all 230 reference texts)', async () => {
    const input = reference.map((row) => row.text);
    // One after the other: the second is answered from the cache (or the same batches), so both carry the same vectors.
    const json = await fetch(`${server.url}/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: input }) }).then(
      (r) => r.text(),
    );
    const base64 = await client.embeddings.create({ model: 'all-minilm-l6-v2', input, encoding_format: 'base64' });
    const rows = JSON.parse(json) as number[][];
    expect(rows).toHaveLength(reference.length);
    let values = 0;
    rows.forEach((row, i) => {
      const raw = Buffer.from(base64.data[i]!.embedding as unknown as string, 'base64');
      const exact = new Uint32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
      // Bit for bit (a -0 would print as 0, as JSON.stringify always did; none occurs here).
      expect(new Uint32Array(Float32Array.from(row).buffer), `text ${i}`).toEqual(exact);
      values += row.length;
    });
    // Shortest float32 decimals: about half the characters of the exact doubles (0.10000000149011612 for 0.1f).
    const perValue = json.length / values;
    expect(perValue).toBeLessThan(13);
    console.info(`/embed JSON: ${values} values of 230 real vectors read back bit for bit; ${perValue.toFixed(1)} characters per value`);
  });

  it('a single string input and the /embeddings alias work', async () => {
    const aliasClient = new OpenAI({ baseURL: server.url, apiKey: 'unused', maxRetries: 0 });
    const response = await aliasClient.embeddings.create({ model: 'sentence-transformers/all-MiniLM-L6-v2', input: 'hello world' });
    expect(response.data).toHaveLength(1);
    expect(response.model).toBe('all-minilm-l6-v2');
    const [expected] = await library.embed(['hello world']);
    expect(cosine(response.data[0]!.embedding, expected!)).toBeGreaterThanOrEqual(0.99999);
  });

  it("one served model answers any model name (the client's default included) and reports its own name", async () => {
    const response = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' });
    expect(response.model).toBe('all-minilm-l6-v2');
    expect(response.data[0]!.embedding).toHaveLength(384);
  });

  it('models.list names the served model', async () => {
    const page = await client.models.list();
    expect(page.data.map((model) => model.id)).toEqual(['all-minilm-l6-v2']);
  });

  it('LangChain OpenAIEmbeddings (baseURL) embeds documents and queries', async () => {
    const embeddings = new OpenAIEmbeddings({
      model: 'all-minilm-l6-v2',
      apiKey: 'unused',
      configuration: { baseURL: `${server.url}/v1` },
      maxRetries: 0,
    });
    const docs = texts.slice(0, 3).map((row) => row.text);
    const vectors = await embeddings.embedDocuments(docs);
    const query = await embeddings.embedQuery(docs[0]!);
    expect(vectors).toHaveLength(3);
    vectors.forEach((vector, i) => expect(cosine(vector, texts[i]!.embedding)).toBeGreaterThanOrEqual(0.99999));
    expect(cosine(query, texts[0]!.embedding)).toBeGreaterThanOrEqual(0.99999);
  });
});
