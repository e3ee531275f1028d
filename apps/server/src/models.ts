import { basename } from 'node:path';
import { findBuiltinModel, type Logger } from '@embedder-rag/core';
import { ModelHost } from './model-host';
import { HttpError } from './errors';
import type { ServerConfig } from './config';
import type { ServerMetrics } from './metrics';

/** One model the server answers for. */
export interface ServedModel {
  /** The name as configured (EMBEDDER_MODELS / --model); what responses report as `model`. */
  name: string;
  /** The model's generator, in its own worker thread. */
  generator: ModelHost;
  /** Lower-cased names a request's `model` may use: the configured name, id, repo id, folder name. */
  aliases: Set<string>;
}

function aliasesOf(name: string, generator: ModelHost): Set<string> {
  const names = [name, generator.model.id, generator.model.repoId, basename(generator.model.dir)];
  const builtin = findBuiltinModel(name) ?? findBuiltinModel(generator.model.id);
  if (builtin !== undefined) names.push(builtin.id, builtin.repoId, builtin.folderName);
  return new Set(names.filter((value): value is string => typeof value === 'string').map((value) => value.toLowerCase()));
}

/** The loaded models, routed by a request's `model`; the first is the default. */
export class ModelPool {
  readonly #models: ServedModel[];
  readonly #unsubscribe: (() => void)[];

  private constructor(models: ServedModel[], unsubscribe: (() => void)[]) {
    this.#models = models;
    this.#unsubscribe = unsubscribe;
  }

  /** Loads every configured model, one after another (each load warms up the model and uses every core). */
  static async load(config: ServerConfig, logger: Logger, metrics: ServerMetrics): Promise<ModelPool> {
    const models: ServedModel[] = [];
    const unsubscribe: (() => void)[] = [];
    try {
      for (const name of config.models) {
        const started = performance.now();
        const generator = await ModelHost.start({ ...config.modelSettings, model: name }, config.queueSize, logger);
        const served: ServedModel = { name, generator, aliases: aliasesOf(name, generator) };
        models.push(served);
        unsubscribe.push(generator.onBatch((event) => metrics.observeBatch(event)));
        metrics.addSource({ name, stats: () => generator.getStats(), queuedInputs: () => generator.queuedInputs() });
        logger.info('model loaded', {
          model: name,
          dir: generator.model.dir,
          dimension: generator.model.dimension,
          dtype: generator.model.dtype,
          backend: generator.model.backend,
          device: generator.model.device.used,
          ...(generator.model.device.skipped.length > 0 ? { deviceSkipped: generator.model.device.skipped } : {}),
          ...(generator.model.device.gpuMaxAbsDiff === undefined ? {} : { gpuMaxAbsDiff: generator.model.device.gpuMaxAbsDiff }),
          ms: Math.round(performance.now() - started),
        });
      }
    } catch (error) {
      await Promise.allSettled(models.map((model) => model.generator.dispose()));
      throw error;
    }
    return new ModelPool(models, unsubscribe);
  }

  /** The default model (the first configured). */
  get default(): ServedModel {
    return this.#models[0]!;
  }

  /** Every served model, in configured order. */
  list(): readonly ServedModel[] {
    return this.#models;
  }

  /**
   * The model a request asked for (null/undefined = the default). With one served model any name resolves to it,
   * as TEI does: OpenAI clients (LangChain, the openai SDK) send their own default names, and the answer's `model`
   * field says which model actually ran. With several, an unknown name is a 404 naming the served ones.
   */
  resolve(name: string | null | undefined): ServedModel {
    if (name === undefined || name === null || name === '' || this.#models.length === 1) return this.default;
    const wanted = name.toLowerCase();
    const found = this.#models.find((model) => model.aliases.has(wanted));
    if (found === undefined) {
      const served = this.#models.map((model) => model.name).join(', ');
      throw new HttpError(404, 'NotFound', `model '${name}' is not served here; served models: ${served}`);
    }
    return found;
  }

  /** Disposes every generator (flushing persistent caches). */
  async dispose(): Promise<void> {
    for (const stop of this.#unsubscribe) stop();
    const results = await Promise.allSettled(this.#models.map((model) => model.generator.dispose()));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  }
}
