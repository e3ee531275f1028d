import { basename } from 'node:path';
import type { FastifyReply } from 'fastify';
import { defaultSettings, findBuiltinModel, type Dtype, type EmbeddingHost, type Logger } from '@embedder-rag/core';
import { ModelManager } from '@embedder-rag/embedder';
import { ModelHost, ModelThread } from './model-host';
import { modelThreadKey, parseModelEntry, type ModelEntry } from './model-entry';
import { HttpError } from './errors';
import type { ServerConfig } from './config';
import type { ServerMetrics } from './metrics';

/** One model the server answers for, loaded (and pinned for the request that resolved it). */
export interface ServedModel {
  /** The name as configured (EMBEDDER_MODELS / --model); what responses report as `model`. */
  name: string;
  /** The model's generator (a ModelHost: in a worker thread, shared with the model's other dtypes). */
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
  /** The dtype it is served with: its `@dtype`, else the server's setting. */
  dtype: Dtype;
  /** The worker thread it runs in (models sharing one report the same id); null while not loaded. */
  thread: number | null;
}

/**
 * Names a request may use before the model is loaded: the configured name, its built-in ids, its folder name. A
 * `name@dtype` entry whose model is also served plain (`ownNameOnly`) answers to its configured name only: the plain
 * names belong to the plain entry.
 */
function configuredAliases(name: string, entry: ModelEntry, ownNameOnly: boolean): string[] {
  if (ownNameOnly) return [name];
  const builtin = findBuiltinModel(entry.model);
  return [name, basename(entry.model), ...(builtin === undefined ? [] : [builtin.id, builtin.repoId, builtin.folderName])];
}

function loadedAliases(generator: EmbeddingHost, ownNameOnly: boolean): string[] {
  if (ownNameOnly) return [];
  const builtin = findBuiltinModel(generator.model.id);
  const names = [generator.model.id, generator.model.repoId, basename(generator.model.dir)];
  if (builtin !== undefined) names.push(builtin.id, builtin.repoId, builtin.folderName);
  return names.filter((value): value is string => typeof value === 'string');
}

/**
 * The worker threads of the loaded models, one per model (its dtypes share it, and with it the backend registry and
 * the tokenizer; see {@link modelThreadKey}). A thread whose last model was unloaded has ended: the next load starts
 * a new one.
 */
class ModelThreads {
  readonly #threads = new Map<string, Promise<ModelThread>>();
  constructor(readonly logger: Logger) {}

  async for(entry: ModelEntry): Promise<ModelThread> {
    const key = modelThreadKey(entry);
    const existing = this.#threads.get(key);
    if (existing !== undefined) {
      const thread = await existing.catch(() => undefined);
      if (thread?.usable) return thread;
    }
    const started = ModelThread.start(key, this.logger);
    this.#threads.set(key, started);
    return started;
  }
}

/**
 * The configured models, routed by a request's `model`; the first is the default and is loaded at start, the
 * others on first use (ModelManager). With EMBEDDER_MODEL_MEMORY_BUDGET_MB the least recently used idle model is
 * unloaded when loading another would exceed the budget, and loaded again when asked for.
 */
export class ModelPool {
  readonly #manager: ModelManager<ModelHost>;
  /** Configured name → lower-cased names a request may use (grows with the model's own ids once loaded). */
  readonly #aliases: Map<string, Set<string>>;
  /** Configured name → the dtype it is served with. */
  readonly #dtypes: Map<string, Dtype>;

  private constructor(manager: ModelManager<ModelHost>, aliases: Map<string, Set<string>>, dtypes: Map<string, Dtype>) {
    this.#manager = manager;
    this.#aliases = aliases;
    this.#dtypes = dtypes;
  }

  /** Sets up every configured model and loads the default one (a default that cannot load fails the start). */
  static async load(config: ServerConfig, logger: Logger, metrics: ServerMetrics): Promise<ModelPool> {
    const unsubscribe = new Map<string, () => void>();
    const entries = new Map(config.models.map((name) => [name, parseModelEntry(name)]));
    const threads = new ModelThreads(logger);
    const servedPlain = new Set([...entries.values()].filter((entry) => entry.dtype === undefined).map(modelThreadKey));
    const ownNameOnly = new Map([...entries].map(([name, entry]) => [name, entry.dtype !== undefined && servedPlain.has(modelThreadKey(entry))]));
    const aliases = new Map(config.models.map((name) => [name, new Set(configuredAliases(name, entries.get(name)!, ownNameOnly.get(name)!).map((alias) => alias.toLowerCase()))]));
    const serverDtype = config.modelSettings.dtype ?? defaultSettings().dtype;
    const dtypes = new Map(config.models.map((name) => [name, entries.get(name)!.dtype ?? serverDtype]));
    const manager = new ModelManager<ModelHost>({
      models: config.models,
      load: async (name) => {
        const entry = entries.get(name)!;
        const settings = { ...config.modelSettings, model: entry.model, ...(entry.dtype === undefined ? {} : { dtype: entry.dtype }) };
        return ModelHost.start(name, settings, config.queueSize, await threads.for(entry));
      },
      ...(config.modelMemoryBudgetMb === undefined ? {} : { memoryBudgetBytes: config.modelMemoryBudgetMb * 1024 * 1024 }),
      logger,
      onLoad: (name, generator) => {
        for (const alias of loadedAliases(generator, ownNameOnly.get(name)!)) aliases.get(name)?.add(alias.toLowerCase());
        unsubscribe.set(name, generator.onBatch((event) => metrics.observeBatch(event)));
        metrics.addSource({ name, stats: () => generator.getStats(), queuedInputs: () => generator.queuedInputs() });
        logger.info('model ready', {
          model: name,
          dir: generator.model.dir,
          dimension: generator.model.dimension,
          dtype: generator.model.dtype,
          backend: generator.model.backend,
          thread: generator.thread.threadId,
          replicas: generator.getStats().tuning.replicas,
          tokenizerLoads: generator.tokenizerLoads,
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
    const pool = new ModelPool(manager, aliases, dtypes);
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
    return this.#manager.list().map((state) => ({
      name: state.name,
      loaded: state.loaded,
      bytes: state.bytes ?? null,
      loads: state.loads,
      dtype: this.#dtypes.get(state.name)!,
      thread: this.#manager.peek(state.name)?.thread.threadId ?? null,
    }));
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
