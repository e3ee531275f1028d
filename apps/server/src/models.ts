import { basename } from 'node:path';
import type { FastifyReply } from 'fastify';
import { findBuiltinModel, type EmbeddingHost, type Logger } from '@embedder-rag/core';
import { ModelManager } from '@embedder-rag/embedder';
import { ModelHost } from './model-host';
import { HttpError } from './errors';
import type { ServerConfig } from './config';
import type { ServerMetrics } from './metrics';

/** One model the server answers for, loaded (and pinned for the request that resolved it). */
export interface ServedModel {
  /** The name as configured (EMBEDDER_MODELS / --model); what responses report as `model`. */
  name: string;
  /** The model's generator (a ModelHost: in its own worker thread). */
  generator: EmbeddingHost;
  /** Lower-cased names a request's `model` may use: the configured name, id, repo id, folder name. */
  aliases: Set<string>;
}

/** A configured model as /v1/models and /info list it: loaded or not, and its measured size. */
export interface ModelState {
  name: string;
  loaded: boolean;
  /** Resident memory its last load added, in bytes (measured); null until first loaded. */
  bytes: number | null;
  loads: number;
}

/** Names a request may use before the model is loaded: the configured name, its built-in ids, its folder name. */
function configuredAliases(name: string): string[] {
  const builtin = findBuiltinModel(name);
  return [name, basename(name), ...(builtin === undefined ? [] : [builtin.id, builtin.repoId, builtin.folderName])];
}

function loadedAliases(generator: EmbeddingHost): string[] {
  const builtin = findBuiltinModel(generator.model.id);
  const names = [generator.model.id, generator.model.repoId, basename(generator.model.dir)];
  if (builtin !== undefined) names.push(builtin.id, builtin.repoId, builtin.folderName);
  return names.filter((value): value is string => typeof value === 'string');
}

/**
 * The configured models, routed by a request's `model`; the first is the default and is loaded at start, the
 * others on first use (ModelManager). With EMBEDDER_MODEL_MEMORY_BUDGET_MB the least recently used idle model is
 * unloaded when loading another would exceed the budget, and loaded again when asked for.
 */
export class ModelPool {
  readonly #manager: ModelManager<EmbeddingHost>;
  /** Configured name → lower-cased names a request may use (grows with the model's own ids once loaded). */
  readonly #aliases: Map<string, Set<string>>;

  private constructor(manager: ModelManager<EmbeddingHost>, aliases: Map<string, Set<string>>) {
    this.#manager = manager;
    this.#aliases = aliases;
  }

  /** Sets up every configured model and loads the default one (a default that cannot load fails the start). */
  static async load(config: ServerConfig, logger: Logger, metrics: ServerMetrics): Promise<ModelPool> {
    const unsubscribe = new Map<string, () => void>();
    const aliases = new Map(config.models.map((name) => [name, new Set(configuredAliases(name).map((alias) => alias.toLowerCase()))]));
    const manager = new ModelManager<EmbeddingHost>({
      models: config.models,
      load: (name) => ModelHost.start({ ...config.modelSettings, model: name }, config.queueSize, logger),
      ...(config.modelMemoryBudgetMb === undefined ? {} : { memoryBudgetBytes: config.modelMemoryBudgetMb * 1024 * 1024 }),
      logger,
      onLoad: (name, generator) => {
        for (const alias of loadedAliases(generator)) aliases.get(name)?.add(alias.toLowerCase());
        unsubscribe.set(name, generator.onBatch((event) => metrics.observeBatch(event)));
        metrics.addSource({ name, stats: () => generator.getStats(), queuedInputs: () => generator.queuedInputs() });
        logger.info('model ready', {
          model: name,
          dir: generator.model.dir,
          dimension: generator.model.dimension,
          dtype: generator.model.dtype,
          backend: generator.model.backend,
          device: generator.model.device.used,
          ...(generator.model.device.skipped.length > 0 ? { deviceSkipped: generator.model.device.skipped } : {}),
          ...(generator.model.device.gpuMaxAbsDiff === undefined ? {} : { gpuMaxAbsDiff: generator.model.device.gpuMaxAbsDiff }),
        });
      },
      onUnload: (name) => {
        unsubscribe.get(name)?.();
        unsubscribe.delete(name);
        metrics.removeSource(name);
      },
    });
    const pool = new ModelPool(manager, aliases);
    try {
      await manager.use(manager.defaultName, () => undefined);
    } catch (error) {
      await manager.dispose().catch(() => undefined);
      throw error;
    }
    return pool;
  }

  /** The default model's name (the first configured). */
  get defaultName(): string {
    return this.#manager.defaultName;
  }

  /** Every configured model, loaded or not, in configured order. */
  list(): ModelState[] {
    return this.#manager.list().map((state) => ({ name: state.name, loaded: state.loaded, bytes: state.bytes ?? null, loads: state.loads }));
  }

  /** The loaded models' generators (for liveness). */
  loaded(): EmbeddingHost[] {
    return this.#manager.list().flatMap((state) => this.#manager.peek(state.name) ?? []);
  }

  /**
   * The configured name a request's `model` means (null/undefined = the default). With one served model any name
   * means it, as TEI does: OpenAI clients (LangChain, the openai SDK) send their own default names, and the answer's
   * `model` field says which model actually ran. With several, an unknown name is a 404 naming the served ones.
   */
  nameOf(name: string | null | undefined): string {
    if (name === undefined || name === null || name === '' || this.#aliases.size === 1) return this.defaultName;
    const wanted = name.toLowerCase();
    for (const [configured, aliases] of this.#aliases) if (aliases.has(wanted)) return configured;
    const served = [...this.#aliases.keys()].join(', ');
    throw new HttpError(404, 'NotFound', `model '${name}' is not served here; served models: ${served}`);
  }

  /**
   * The model a request asked for, loaded if needed. With `reply`, it stays pinned (never unloaded for the budget)
   * until the response is finished or the client is gone.
   */
  async resolve(name: string | null | undefined, reply?: FastifyReply): Promise<ServedModel> {
    const configured = this.nameOf(name);
    const { model, release } = await this.#manager.acquire(configured);
    if (reply === undefined) release();
    else reply.raw.once('close', release);
    return { name: configured, generator: model, aliases: this.#aliases.get(configured)! };
  }

  /** Disposes every loaded generator (flushing persistent caches). */
  async dispose(): Promise<void> {
    await this.#manager.dispose();
  }
}
