/**
 * Worker thread that owns one EmbeddingGenerator. onnxruntime-node runs a session synchronously on the thread
 * that calls it (its run() only defers the call with setImmediate), so inference on the HTTP thread would stall
 * every other request. Here it blocks only this thread; requests that arrive meanwhile queue as messages and
 * the facade merges them into the next batch. Plain type-strippable TypeScript with package imports only, so Node
 * runs it from src/ (tests) and from dist/ (built) alike.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EmbedderConfig, EmbeddingGenerator } from '@embedder-rag/embedder';
import { serializeError, type EmbedOptions, type EmbedderSettings, type PromptOptions } from '@embedder-rag/core';

interface WorkerInput {
  settings: Partial<EmbedderSettings>;
  maxQueueInputs: number;
}

type Call =
  | { id: number; op: 'embed'; texts: string[]; options: Omit<EmbedOptions, 'signal'> }
  | { id: number; op: 'abort' }
  | { id: number; op: 'tokenize'; texts: string[]; options: PromptOptions & { addSpecialTokens?: boolean } }
  | { id: number; op: 'countTokens'; texts: string[]; options: PromptOptions }
  | { id: number; op: 'decode'; ids: number[][]; skipSpecialTokens: boolean }
  | { id: number; op: 'dispose' };

const port = parentPort!;
const input = workerData as WorkerInput;
const aborts = new Map<number, AbortController>();
let disposed = false;

async function main(): Promise<void> {
  let generator: EmbeddingGenerator;
  try {
    generator = await EmbeddingGenerator.create(EmbedderConfig.create(input.settings), {
      maxQueueInputs: input.maxQueueInputs,
      logger: {
        debug: () => {},
        info: () => {},
        warn: (message, fields) => port.postMessage({ type: 'log', level: 'warn', message, fields }),
        error: (message, fields) => port.postMessage({ type: 'log', level: 'error', message, fields }),
      },
    });
  } catch (error) {
    port.postMessage({ type: 'failed', error: serializeError(error) });
    return;
  }
  // Stats travel with every batch and every answer, so the HTTP thread reads them without waiting on this one.
  generator.onBatch((event) => port.postMessage({ type: 'batch', event, stats: disposed ? undefined : generator.getStats() }));
  port.postMessage({ type: 'ready', model: generator.model, settings: generator.settings, stats: generator.getStats() });

  port.on('message', (call: Call) => {
    if (call.op === 'abort') {
      aborts.get(call.id)?.abort(new DOMException('client disconnected', 'AbortError'));
      return;
    }
    void handle(generator, call).then(
      // After dispose() the cache is closed: no stats then.
      (value) => port.postMessage({ id: call.id, ok: true, value, stats: disposed ? undefined : generator.getStats() }),
      (error: unknown) => port.postMessage({ id: call.id, ok: false, error: serializeError(error), stats: disposed ? undefined : generator.getStats() }),
    );
  });
}

async function handle(generator: EmbeddingGenerator, call: Exclude<Call, { op: 'abort' }>): Promise<unknown> {
  switch (call.op) {
    case 'embed': {
      const controller = new AbortController();
      aborts.set(call.id, controller);
      try {
        return await generator.embedWithDetails(call.texts, { ...call.options, signal: controller.signal });
      } finally {
        aborts.delete(call.id);
      }
    }
    case 'tokenize':
      return generator.tokenize(call.texts, call.options);
    case 'countTokens':
      return generator.countTokens(call.texts, call.options);
    case 'decode':
      return generator.decode(call.ids, { skipSpecialTokens: call.skipSpecialTokens });
    case 'dispose':
      disposed = true;
      await generator.dispose();
      return undefined;
  }
}

void main();
