import { EmbedderConfig, EmbedderError, noopLogger, type EmbedderSettings, type Logger } from '@embedder-rag/core';
import { loadTokenizer, type TextTokenizer } from '@embedder-rag/tokenizer';
import { EmbeddingGenerator, type GeneratorOptions } from './generator';
import { createDefaultRegistry } from './registry';

/** What the manager holds: anything that can be disposed (a generator, or the server's worker-thread host). */
export interface Disposable {
  dispose(): Promise<void>;
}

/** One model the manager can serve, loaded or not. */
export interface ManagedModelState {
  name: string;
  loaded: boolean;
  /** Resident memory the last load added (RSS after − before, bytes); undefined until first loaded. */
  bytes?: number;
  /** Times it was loaded (more than 1 = it was unloaded for the budget and loaded again). */
  loads: number;
  /** Calls using it right now (a model in use is never unloaded). */
  inUse: number;
  /** performance.now() of its last use; 0 = never. */
  lastUsedMs: number;
}

export interface ModelManagerOptions<T extends Disposable> {
  /** The names that can be loaded, in order; the first is the default. */
  models: readonly string[];
  /** Loads one model by name. */
  load(name: string): Promise<T>;
  /**
   * Resident memory budget for the loaded models, in bytes: after a load, and before a reload whose size is known,
   * the least recently used models not in use are unloaded until the sum of the loaded models' measured sizes fits.
   * @default unlimited
   */
  memoryBudgetBytes?: number;
  /** How resident memory is read (bytes). @default process.memoryUsage.rss() */
  residentBytes?: () => number;
  logger?: Logger;
  /** Called after a model loaded / before it is disposed (the server wires metrics with these). */
  onLoad?(name: string, model: T): void;
  onUnload?(name: string, model: T): void;
}

interface Entry<T> {
  state: ManagedModelState;
  model?: T;
  loading?: Promise<T>;
}

/**
 * Several models in one process, loaded on first use and unloaded least-recently-used first when a memory budget
 * would be exceeded. A model's size is measured, not guessed: the growth of resident memory (RSS, which holds the
 * runtime's native weights and arenas, not only the JS heap) across its load. Loads run one at a time so each
 * measurement sees one model.
 */
export class ModelManager<T extends Disposable> {
  readonly #options: ModelManagerOptions<T>;
  readonly #entries = new Map<string, Entry<T>>();
  readonly #logger: Logger;
  #loadChain: Promise<unknown> = Promise.resolve();
  #disposed = false;

  constructor(options: ModelManagerOptions<T>) {
    if (options.models.length === 0) throw new EmbedderError('INVALID_CONFIG', 'ModelManager needs at least one model');
    this.#options = options;
    this.#logger = options.logger ?? noopLogger;
    for (const name of options.models) {
      this.#entries.set(name, { state: { name, loaded: false, loads: 0, inUse: 0, lastUsedMs: 0 } });
    }
  }

  /** The default model's name (the first). */
  get defaultName(): string {
    return this.#options.models[0]!;
  }

  /** Every model the manager can serve, loaded or not, in configured order. */
  list(): ManagedModelState[] {
    return [...this.#entries.values()].map((entry) => ({ ...entry.state }));
  }

  /** The loaded model, or undefined (never loads). */
  peek(name: string): T | undefined {
    return this.#entries.get(name)?.model;
  }

  /** Sum of the measured sizes of the loaded models, in bytes. */
  loadedBytes(): number {
    return [...this.#entries.values()].reduce((sum, entry) => sum + (entry.state.loaded ? (entry.state.bytes ?? 0) : 0), 0);
  }

  /**
   * The model, loaded if needed, pinned until `release()` is called (it cannot be unloaded meanwhile). Every
   * acquire must be released once.
   */
  async acquire(name: string): Promise<{ model: T; release: () => void }> {
    const entry = this.#entry(name);
    entry.state.inUse++;
    entry.state.lastUsedMs = performance.now();
    try {
      const model = entry.model ?? (await this.#load(entry));
      let released = false;
      return {
        model,
        release: () => {
          if (released) return;
          released = true;
          entry.state.inUse--;
          entry.state.lastUsedMs = performance.now();
        },
      };
    } catch (error) {
      entry.state.inUse--;
      throw error;
    }
  }

  /** Runs `fn` with the model pinned. */
  async use<R>(name: string, fn: (model: T) => Promise<R> | R): Promise<R> {
    const { model, release } = await this.acquire(name);
    try {
      return await fn(model);
    } finally {
      release();
    }
  }

  /** Unloads a model now (waits for nothing: callers holding it keep a disposed model). */
  async unload(name: string): Promise<void> {
    const entry = this.#entries.get(name);
    if (entry === undefined) return;
    const model = entry.model;
    if (model === undefined) return;
    entry.model = undefined;
    entry.state.loaded = false;
    this.#options.onUnload?.(name, model);
    await model.dispose();
  }

  /** Disposes every loaded model. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    await this.#loadChain.catch(() => undefined);
    const results = await Promise.allSettled([...this.#entries.keys()].map((name) => this.unload(name)));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  }

  #entry(name: string): Entry<T> {
    if (this.#disposed) throw new EmbedderError('DISPOSED', 'the model manager was disposed');
    const entry = this.#entries.get(name);
    if (entry === undefined) {
      throw new EmbedderError('MODEL_NOT_FOUND', `model '${name}' is not managed here; available: ${this.#options.models.join(', ')}`, {
        details: { available: this.#options.models },
      });
    }
    return entry;
  }

  /** Loads one model at a time (concurrent acquires of the same model share the load). */
  #load(entry: Entry<T>): Promise<T> {
    entry.loading ??= (async () => {
      const run = this.#loadChain.then(async () => {
        if (entry.model !== undefined) return entry.model;
        // A reload's size is known: make room first, so the peak stays within the budget.
        if (entry.state.bytes !== undefined) await this.#fit(entry.state.bytes, entry);
        const rss = this.#options.residentBytes ?? (() => process.memoryUsage.rss());
        const before = rss();
        const started = performance.now();
        const model = await this.#options.load(entry.state.name);
        entry.state.bytes = Math.max(0, rss() - before);
        entry.model = model;
        entry.state.loaded = true;
        entry.state.loads++;
        this.#logger.info('model loaded', { model: entry.state.name, bytes: entry.state.bytes, loads: entry.state.loads, ms: Math.round(performance.now() - started) });
        this.#options.onLoad?.(entry.state.name, model);
        await this.#fit(0, entry);
        return model;
      });
      this.#loadChain = run.catch(() => undefined);
      try {
        return await run;
      } finally {
        entry.loading = undefined;
      }
    })();
    return entry.loading;
  }

  /** Unloads least recently used idle models (never `keep`) until `extra` more bytes fit the budget. */
  async #fit(extra: number, keep: Entry<T>): Promise<void> {
    const budget = this.#options.memoryBudgetBytes;
    if (budget === undefined) return;
    while (this.loadedBytes() + extra > budget) {
      const victim = [...this.#entries.values()]
        .filter((entry) => entry !== keep && entry.model !== undefined && entry.state.inUse === 0)
        .sort((a, b) => a.state.lastUsedMs - b.state.lastUsedMs)[0];
      if (victim === undefined) {
        this.#logger.warn('model memory budget exceeded; every other loaded model is in use', {
          budgetBytes: budget,
          loadedBytes: this.loadedBytes() + extra,
        });
        return;
      }
      this.#logger.info('unloading the least recently used model for the memory budget', {
        model: victim.state.name,
        bytes: victim.state.bytes,
        budgetBytes: budget,
      });
      await this.unload(victim.state.name);
    }
  }

  /**
   * A manager of EmbeddingGenerators in this process: they share one backend registry (each runtime initialised
   * once) and one tokenizer per model folder (an fp32 and a q8 of the same model load tokenizer.json once).
   */
  static forGenerators(
    models: Readonly<Record<string, Partial<EmbedderSettings>>>,
    options: Omit<ModelManagerOptions<EmbeddingGenerator>, 'models' | 'load'> & Omit<GeneratorOptions, 'registry' | 'tokenizers'> & { tokenizers?: TokenizerCache } = {},
  ): ModelManager<EmbeddingGenerator> {
    const registry = createDefaultRegistry(options.logger === undefined ? {} : { logger: options.logger });
    const { memoryBudgetBytes, residentBytes, logger, onLoad, onUnload, tokenizers = new TokenizerCache(), ...generatorOptions } = options;
    return new ModelManager({
      models: Object.keys(models),
      load: async (name) => EmbeddingGenerator.create(EmbedderConfig.create(models[name]!), { ...generatorOptions, ...(logger ? { logger } : {}), registry: await registry, tokenizers }),
      ...(memoryBudgetBytes === undefined ? {} : { memoryBudgetBytes }),
      ...(residentBytes === undefined ? {} : { residentBytes }),
      ...(logger === undefined ? {} : { logger }),
      ...(onLoad === undefined ? {} : { onLoad }),
      ...(onUnload === undefined ? {} : { onUnload }),
    });
  }
}

/** Tokenizers by model folder and length limit, loaded once and shared by the generators that use them. */
export class TokenizerCache {
  readonly #loaded = new Map<string, Promise<TextTokenizer>>();
  /** How many tokenizer files were actually read (the rest were shared). */
  loads = 0;

  load(dir: string, maxSeqLength: number): Promise<TextTokenizer> {
    const key = `${dir}\u0000${maxSeqLength}`;
    let loaded = this.#loaded.get(key);
    if (loaded === undefined) {
      this.loads++;
      loaded = loadTokenizer(dir, { maxSeqLength });
      loaded.catch(() => this.#loaded.delete(key));
      this.#loaded.set(key, loaded);
    }
    return loaded;
  }
}
