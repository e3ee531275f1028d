import { describe, expect, it } from 'vitest';
import { cosine, loadMiniLmReference, modelDir } from '@embedder-rag/test-fixtures';
import { call, startTestServer } from './test-helpers';

const tiny = modelDir('test-fixtures/tiny-bert');
const hello = loadMiniLmReference().find((row) => row.text === 'hello world')!;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

interface State {
  name: string;
  loaded: boolean;
  bytes: number | null;
  loads: number;
}

/** EMBEDDER_MODELS through the ModelManager: loaded on first use, least recently used unloaded for the budget. */
describe('server with two models and a memory budget below both', () => {
  it('answers both; each load unloads the least recently used one, which loads again on demand', async () => {
    const server = await startTestServer({ models: ['all-minilm-l6-v2', tiny], modelMemoryBudgetMb: 1 });
    const states = async () => (await call<{ model_states: State[] }>(server.url, 'GET', `/info`)).body.model_states;
    const loaded = async () => (await call<{ data: { id: string; loaded: boolean }[] }>(server.url, 'GET', '/v1/models')).body.data.map((model) => [model.id, model.loaded]);
    const rss: string[] = [`start ${mb(process.memoryUsage.rss())}`];
    try {
      // Only the default is loaded at start; /v1/models lists what can be loaded too.
      expect(await loaded()).toEqual([['all-minilm-l6-v2', true], [tiny, false]]);

      const small = await call<number[][]>(server.url, 'POST', '/embed', { inputs: 'hello world', model: 'tiny-bert' });
      expect(small.status, small.text).toBe(200);
      expect(small.body[0]).toHaveLength(16);
      rss.push(`tiny-bert loaded, MiniLM unloaded ${mb(process.memoryUsage.rss())}`);
      expect(await loaded()).toEqual([['all-minilm-l6-v2', false], [tiny, true]]);

      const big = await call<{ data: { embedding: number[] }[]; model: string }>(server.url, 'POST', '/v1/embeddings', { input: 'hello world', model: 'all-minilm-l6-v2' });
      expect(big.status, big.text).toBe(200);
      expect(big.body.model).toBe('all-minilm-l6-v2');
      expect(cosine(big.body.data[0]!.embedding, hello.embedding)).toBeGreaterThanOrEqual(0.99999);
      rss.push(`MiniLM reloaded, tiny-bert unloaded ${mb(process.memoryUsage.rss())}`);

      const after = await states();
      expect(after.map((state) => [state.name, state.loaded, state.loads])).toEqual([['all-minilm-l6-v2', true, 2], [tiny, false, 1]]);
      for (const state of after) expect(state.bytes, state.name).toBeGreaterThan(0);
      console.info(`[server model-manager] RSS: ${rss.join('; ')}; measured per load: ${after.map((state) => `${state.name} ${mb(state.bytes!)}`).join(', ')}`);

      // An unloaded model's metrics source is gone; the loaded one reports.
      const metrics = await call(server.url, 'GET', '/metrics');
      expect(metrics.text).toContain('embedder_embeddings_total{model="all-minilm-l6-v2"}');
      expect(metrics.text).not.toContain(`embedder_embeddings_total{model="${tiny}"}`);
      expect((await call(server.url, 'GET', '/health')).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
