import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { cosine, loadMiniLmReference, maxAbsDiff, modelRoot } from '@embedder-rag/test-fixtures';
import { startServer } from './server';
import { call } from './test-helpers';

interface State {
  name: string;
  loaded: boolean;
  bytes: number | null;
  loads: number;
  dtype: string;
  thread: number | null;
}
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const path = join(modelRoot(), 'all-MiniLM-L6-v2');
const texts = ['hello world', 'A man is playing a guitar.', 'The quick brown fox jumps over the lazy dog.'];

/**
 * The row-wise q8 file is made from the fp32 one on first use (into the user's cache). Made here in a child process
 * beforehand, so no load below measures the quantiser instead of the model.
 */
function ensureRowwiseFile(): void {
  const script = `
    const { EmbeddingGenerator } = await import('@embedder-rag/embedder');
    const generator = await EmbeddingGenerator.create({ model: ${JSON.stringify(path)}, dtype: 'q8', cacheSize: 0, threads: 1 });
    await generator.dispose();`;
  execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: 'pipe', timeout: 600_000 });
}

/** A server on 127.0.0.1 whose pino lines are kept (the `model ready` lines name each model's thread). */
async function serve(models: string[], budgetMb?: number) {
  const logged: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
  const server = await startServer({
    env: { EMBEDDER_MODEL_PATH: modelRoot() },
    overrides: { port: 0, host: '127.0.0.1', models, modelSettings: { threads: 1 }, ...(budgetMb === undefined ? {} : { modelMemoryBudgetMb: budgetMb }) },
    logger,
  });
  const embed = async (model: string) => {
    const answer = await call<number[][]>(server.url, 'POST', '/embed', { inputs: texts, model });
    expect(answer.status, answer.text).toBe(200);
    return answer.body;
  };
  // /info answers for one model and loads it if needed: ask it about a loaded one.
  const states = async (about = models[0]!) => (await call<{ model_states: State[] }>(server.url, 'GET', `/info?model=${encodeURIComponent(about)}`)).body.model_states;
  const ready = () => logged.filter((entry) => entry.msg === 'model ready');
  return { server, embed, states, ready };
}

/**
 * `name@dtype` entries of EMBEDDER_MODELS: a model's dtypes load into one worker thread, sharing its backend registry
 * and its tokenizer (read once). The same folder named by its path is another model to the server: a thread of its
 * own, the baseline the saving is measured against.
 */
describe('dtypes of all-MiniLM-L6-v2 served at once', () => {
  it('share one thread and one tokenizer; the same dtype in a thread of its own costs more resident memory', async () => {
    ensureRowwiseFile();
    const models = ['all-minilm-l6-v2', 'all-minilm-l6-v2@q8', `${path}@q8`, 'all-minilm-l6-v2@q8-dynamic'];
    const { server, embed, states, ready } = await serve(models);
    try {
      // /v1/models lists every entry, loaded or not, with its dtype; only the default is loaded at start.
      const listed = (await call<{ data: { id: string; loaded: boolean; dtype: string }[] }>(server.url, 'GET', '/v1/models')).body.data;
      expect(listed.map((model) => [model.id, model.loaded, model.dtype])).toEqual([
        [models[0], true, 'fp32'],
        [models[1], false, 'q8'],
        [models[2], false, 'q8'],
        [models[3], false, 'q8-dynamic'],
      ]);

      // In this order: q8 loads into fp32's thread, the path's q8 into a thread of its own, q8-dynamic into fp32's.
      const fp32 = await embed('all-minilm-l6-v2');
      const shared = await embed('all-minilm-l6-v2@q8');
      const separate = await embed(`${path}@q8`);
      const dynamic = await embed('all-minilm-l6-v2@q8-dynamic');
      const reference = loadMiniLmReference().find((row) => row.text === 'hello world')!;
      expect(cosine(fp32[0]!, reference.embedding)).toBeGreaterThanOrEqual(0.99999);
      // Same dtype, same file: the same vectors; each int8 dtype really ran (close to fp32, not equal, not each other).
      expect(shared).toEqual(separate);
      texts.forEach((_, i) => {
        expect(cosine(shared[i]!, fp32[i]!)).toBeGreaterThan(0.98);
        expect(maxAbsDiff(shared[i]!, fp32[i]!)).toBeGreaterThan(1e-4);
        expect(cosine(dynamic[i]!, fp32[i]!)).toBeGreaterThan(0.95);
        expect(maxAbsDiff(dynamic[i]!, shared[i]!)).toBeGreaterThan(1e-4);
      });
      // The plain names (repo id, folder name) mean the plain entry, not a dtype variant.
      const byRepo = await call<{ model: string }>(server.url, 'POST', '/v1/embeddings', { input: 'hello world', model: 'sentence-transformers/all-MiniLM-L6-v2' });
      expect(byRepo.body.model).toBe(models[0]);

      const logged = new Map(ready().map((entry) => [entry.model as string, entry]));
      expect([...logged.keys()]).toEqual([models[0], models[1], models[2], models[3]]);
      const threadOf = (model: string) => logged.get(model)!.thread as number;
      expect(threadOf(models[1]!)).toBe(threadOf(models[0]!));
      expect(threadOf(models[3]!)).toBe(threadOf(models[0]!));
      expect(threadOf(models[2]!)).not.toBe(threadOf(models[0]!));
      // Tokenizer files each model's thread had read when it was ready: the variants found fp32's tokenizer.
      expect(models.map((model) => logged.get(model)!.tokenizerLoads)).toEqual([1, 1, 1, 1]);

      const after = await states();
      expect(after.map((state) => [state.name, state.loaded, state.dtype, state.thread])).toEqual(models.map((model, i) => [model, true, listed[i]!.dtype, threadOf(model)]));
      const bytes = new Map(after.map((state) => [state.name, state.bytes!]));
      const saved = bytes.get(models[2]!)! - bytes.get(models[1]!)!;
      console.info(
        `[server shared thread] RSS growth per load: fp32 ${mb(bytes.get(models[0]!)!)}, q8 in fp32's thread ${mb(bytes.get(models[1]!)!)}, ` +
          `q8 in a thread of its own ${mb(bytes.get(models[2]!)!)} (sharing saved ${mb(saved)}), q8-dynamic in fp32's thread ${mb(bytes.get(models[3]!)!)}`,
      );
      expect(saved).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  it('with a budget below two, a slot is unloaded and its thread stays for the other; the thread ends with its last slot', async () => {
    const models = ['all-minilm-l6-v2', 'all-minilm-l6-v2@q8'];
    const { server, embed, states, ready } = await serve(models, 1);
    try {
      const fp32 = await embed(models[0]!);
      const [first] = ready();
      // Loading q8 unloads fp32 (least recently used): q8 runs in the same thread, which stays.
      await embed(models[1]!);
      expect((await states(models[1])).map((state) => [state.name, state.loaded, state.thread])).toEqual([
        [models[0], false, null],
        [models[1], true, first!.thread],
      ]);
      // fp32 again: q8 is unloaded first (its size is known), the thread's last slot, so the thread ends and fp32
      // loads into a new one; same vectors as before.
      expect(await embed(models[0]!)).toEqual(fp32);
      const after = await states();
      expect(after.map((state) => [state.name, state.loaded, state.loads])).toEqual([
        [models[0], true, 2],
        [models[1], false, 1],
      ]);
      expect(after[0]!.thread).not.toBe(first!.thread);
      expect((await call(server.url, 'GET', '/health')).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
