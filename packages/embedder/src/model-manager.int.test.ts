import { describe, expect, it } from 'vitest';
import { isEmbedderError } from '@embedder-rag/core';
import { cosine, loadMiniLmReference, modelRoot } from '@embedder-rag/test-fixtures';
import { ModelManager, TokenizerCache } from './index';

const modelPath = modelRoot();
const models = {
  fp32: { model: 'all-minilm-l6-v2', modelPath, dtype: 'fp32', cacheSize: 0 },
  q8: { model: 'all-minilm-l6-v2', modelPath, dtype: 'q8', cacheSize: 0 },
} as const;
const hello = loadMiniLmReference().find((row) => row.text === 'hello world')!;
const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

describe('ModelManager (all-MiniLM-L6-v2 fp32 and q8 in one process)', () => {
  it('loads on first use, shares one tokenizer between the two, and serves both', async () => {
    const tokenizers = new TokenizerCache();
    const manager = ModelManager.forGenerators(models, { tokenizers });
    try {
      expect(manager.list().map((state) => state.loaded)).toEqual([false, false]);
      const [q8] = await manager.use('q8', (generator) => generator.embed(['hello world']));
      expect(manager.list().map((state) => state.loaded)).toEqual([false, true]);
      const [fp32] = await manager.use('fp32', (generator) => generator.embed(['hello world']));
      expect(cosine(fp32!, hello.embedding)).toBeGreaterThanOrEqual(0.99999);
      expect(cosine(q8!, hello.embedding)).toBeGreaterThan(0.98);
      expect(tokenizers.loads).toBe(1);
      for (const state of manager.list()) expect(state.bytes, state.name).toBeGreaterThan(0);
      console.info(`[model-manager] measured RSS growth on load: ${manager.list().map((state) => `${state.name} ${mb(state.bytes!)} MB`).join(', ')}`);
      const unknown = await manager.acquire('nope').catch((error: unknown) => error);
      expect(isEmbedderError(unknown, 'MODEL_NOT_FOUND')).toBe(true);
    } finally {
      await manager.dispose();
    }
  });

  it('with a budget below both, the least recently used is unloaded and loaded again on demand; a model in use is kept', async () => {
    const manager = ModelManager.forGenerators(models, { memoryBudgetBytes: 1 });
    const rss = () => process.memoryUsage.rss();
    try {
      const start = rss();
      await manager.use('fp32', (generator) => generator.embed(['a']));
      const afterFp32 = rss();
      await manager.use('q8', (generator) => generator.embed(['b']));
      const afterQ8 = rss();
      expect(manager.list().map((state) => [state.name, state.loaded])).toEqual([['fp32', false], ['q8', true]]);
      const [again] = await manager.use('fp32', (generator) => generator.embed(['hello world']));
      const afterReload = rss();
      expect(cosine(again!, hello.embedding)).toBeGreaterThanOrEqual(0.99999);
      expect(manager.list().map((state) => [state.name, state.loaded, state.loads])).toEqual([['fp32', true, 2], ['q8', false, 1]]);
      console.info(
        `[model-manager] budget 1 byte: RSS start ${mb(start)} MB, fp32 loaded ${mb(afterFp32)}, q8 loaded (fp32 unloaded) ${mb(afterQ8)}, fp32 reloaded (q8 unloaded) ${mb(afterReload)}`,
      );

      // fp32 pinned by a call in flight: loading q8 cannot unload it.
      const held = await manager.acquire('fp32');
      await manager.use('q8', (generator) => generator.embed(['c']));
      expect(manager.list().map((state) => state.loaded)).toEqual([true, true]);
      held.release();
    } finally {
      await manager.dispose();
    }
  });
});
