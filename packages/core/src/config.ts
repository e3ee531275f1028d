import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { EmbedderError } from './errors';
import { DEFAULT_MODEL, type ModelType } from './models';
import { MODEL_SETTINGS, parseSettingText, settingSchema, type SettingDefinition } from './settings';
import type { Device, Dtype } from './types';

/** Performance targets given to {@link EmbedderConfig.optimizeForConstraints}. */
export interface PerformanceConstraints {
  /** Memory the process may use, in MB. */
  maxMemoryMb?: number;
  /** Embeddings per second wanted. */
  targetThroughput?: number;
  /** Longest acceptable time for one batch, in ms. */
  maxLatencyMs?: number;
}

/** Which preset shaped the config (reported by getStats()). */
export type PresetName = 'default' | 'high-performance' | 'low-memory' | 'constrained';

/** The validated, plain settings an {@link EmbedderConfig} holds. */
export interface EmbedderSettings {
  /** @default 'all-minilm-l6-v2' */
  model: ModelType;
  /** A folder holding model folders (EMBEDDER_MODEL_PATH). */
  modelPath?: string;
  /** Backend name, or 'auto' for the best that initialises. @default 'onnx' */
  backend: string;
  /** @default 'fp32' */
  dtype: Dtype;
  /** @default 'cpu' */
  device: Device;
  /** Most texts in one inference batch. @default 32 */
  batchSize: number;
  /**
   * Most padded tokens (longest text × texts) in one batch. @default 2048 — smaller runs stay in the CPU's caches: on
   * all-MiniLM-L6-v2's mixed-length corpus (AMD EPYC, AVX2; alternating rounds) 2048 made 38.8 emb/s fp32 and 55.3 q8
   * against 36.6 and 51.7 for 4096, and 4096 had matched 8192 with a third less peak memory. A batch of short texts
   * (32 × 64 tokens) still fits whole.
   */
  maxBatchTokens: number;
  /**
   * Most padded tokens per real token in a batch: a batch is cut where text lengths drop so far that it would be
   * mostly padding (concurrent single texts of every length). @default 1.2
   */
  maxPaddingRatio: number;
  /**
   * What running one more batch costs, in padded tokens: within maxPaddingRatio, a length-sorted window is cut where
   * the padding a batch would carry costs more than another batch. @default 16 (see DEFAULT_BATCH_OVERHEAD_TOKENS)
   */
  batchOverheadTokens: number;
  /**
   * L2-normalise vectors. @default the model's pipeline: on when its modules.json has a Normalize module, off when
   * not (bert-base-uncased), as sentence-transformers does; set, it wins for every model.
   */
  normalize?: boolean;
  /** Cut texts longer than the model's limit instead of failing. @default true */
  truncate: boolean;
  /** In-memory cache entries; 0 turns the cache off. @default 10000 */
  cacheSize: number;
  /** Cache entry lifetime in ms; undefined = no expiry. */
  cacheTtlMs?: number;
  /** Persistent cache file; undefined = memory only. */
  cachePath?: string;
  /**
   * Redis URL (redis:// or rediss://) of a cache tier shared between processes, behind the in-memory cache: server
   * replicas reuse each other's vectors. An outage reads as misses. undefined = none.
   */
  cacheRedisUrl?: string;
  /** Longest a shared-tier lookup or write may take before it counts as a miss, in ms. @default 250 */
  cacheRedisTimeoutMs?: number;
  /** Threads inside one operator, shared among the replicas. @default the cores available */
  threads: number;
  /**
   * Copies of the model running batches side by side, each on threads / replicas threads (onnx backend; others
   * run one). Faster on short texts, at the cost of memory: see {@link throughputReplicas}. @default 1
   */
  replicas: number;
  /** Keep the runtime's memory arena between batches. @default true */
  memoryArena: boolean;
  /** Never download models. @default false (EMBEDDER_OFFLINE or HF_HUB_OFFLINE sets it) */
  offline: boolean;
  constraints?: PerformanceConstraints;
  preset: PresetName;
}

/**
 * Padded tokens a batch may hold per real token before the scheduler cuts it (the `maxPaddingRatio` default). A
 * tighter bound saves padding but makes more, smaller batches, and each batch has a fixed cost. Short corpus, 64
 * concurrent single-text callers, fp32, alternating in one process: 1.3 340, 1.2 356, 1.15 363 emb/s; p50 of a
 * 32-text call q8 42.1, 40.1, 39.0 ms. But one big call of the mixed corpus, q8, in alternating new processes:
 * 1.15 was 9% slower than 1.3 in both pairs (62.4 vs 68.4, 51.6 vs 57.0 emb/s), 1.2 within noise of it (55.7,
 * 54.7, 67.7 vs 57.7, 50.3, 59.4). 1.2 takes most of the gain for concurrent callers without that loss.
 */
export const DEFAULT_MAX_PADDING_RATIO = 1.2;

/**
 * What one more batch costs, in padded tokens (the `batchOverheadTokens` default): a sorted window is cut at the
 * least total of padded tokens + this per batch, within maxPaddingRatio. Measured on all-MiniLM-L6-v2, 2 cores,
 * embed() calls of n texts of L tokens: on a busy machine a batch cost about 2 ms + 0.26 ms of CPU per padded token
 * in fp32 (8 tokens), 1.8 ms + 0.11 ms in q8 (16); on a quiet one fp32 5.3 ms + 0.22 ms of CPU (24 tokens), 4.6 ms +
 * 0.11 ms of wall time (40). With 16, 64 concurrent single-text callers of the short corpus padded 6% of what they
 * computed instead of 15% (greedy cut at 1.2): 4.3-4.75 vs 5.2-5.4 ms of CPU per text, fp32, busy machine; in wall
 * time on a quiet one 16, 64 and the greedy cut were within noise of each other. One big call of the mixed corpus
 * spent no more CPU (fp32 39.6-43.3 vs 39.5-40.3 s, q8 19.9-20.5 vs 22.6-24.3 s).
 */
export const DEFAULT_BATCH_OVERHEAD_TOKENS = 16;

/**
 * The replicas highPerformance() runs: 2 (1 on one core). Two replicas on one thread each beat one replica on two
 * threads on a 2-core AMD EPYC (AVX2), alternating rounds in one process: short corpus q8 598 vs 460 emb/s, fp32 403
 * vs 335; p50 of a 32-text call 64.5 vs 76.5 ms (q8) and 92.3 vs 101.9 (fp32); mixed corpus q8 56.2 vs 53.1, fp32
 * even. Small batches leave one runtime's threads waiting on each other; two runtimes do not wait. The price is
 * memory, which is why it is not the default: each replica holds its own weights and its own activation arena
 * (peak RSS embedding the mixed corpus, a process each: fp32 701 vs 355 MB, q8 613 vs 312 MB; streaming 100,000
 * lines q8: 458 vs 298 MB).
 */
export function throughputReplicas(cores = availableParallelism()): number {
  return Math.max(1, Math.min(2, cores));
}

/** The defaults of a new config. */
export function defaultSettings(): EmbedderSettings {
  return {
    model: DEFAULT_MODEL,
    backend: 'onnx',
    dtype: 'fp32',
    device: 'cpu',
    batchSize: 32,
    maxBatchTokens: 2048,
    maxPaddingRatio: DEFAULT_MAX_PADDING_RATIO,
    batchOverheadTokens: DEFAULT_BATCH_OVERHEAD_TOKENS,
    truncate: true,
    cacheSize: 10_000,
    threads: Math.max(1, availableParallelism()),
    replicas: 1,
    memoryArena: true,
    offline: false,
    preset: 'default',
  };
}

// A setting without a default is optional.
const DEFAULTS = defaultSettings();

/** The schema every config source (builder, env, CLI flags) passes through: one field per {@link MODEL_SETTINGS} entry. */
export const embedderSettingsSchema = z.object({
  ...Object.fromEntries(
    MODEL_SETTINGS.map((setting) => {
      const schema = settingSchema(setting);
      return [setting.key, DEFAULTS[setting.key] === undefined ? schema.optional() : schema];
    }),
  ),
  constraints: z
    .object({
      maxMemoryMb: z.number().positive('maxMemoryMb must be more than 0').optional(),
      targetThroughput: z.number().positive('targetThroughput must be more than 0').optional(),
      maxLatencyMs: z.number().positive('maxLatencyMs must be more than 0').optional(),
    })
    .optional(),
  preset: z.enum(['default', 'high-performance', 'low-memory', 'constrained']),
});

/** Validates settings, throwing INVALID_CONFIG with every problem in one message. */
export function validateSettings(settings: unknown): EmbedderSettings {
  const result = embedderSettingsSchema.safeParse(settings);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const field = issue.path.join('.');
      return issue.message.startsWith(field) || field === '' ? issue.message : `${field}: ${issue.message}`;
    });
    throw new EmbedderError('INVALID_CONFIG', `invalid embedder config: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  return result.data as EmbedderSettings;
}

/**
 * The configuration builder (the seed's EmbedderConfig). Immutable: each `with*` returns a new config and
 * validates its value at once, so a bad value fails where it is set.
 *
 * ```ts
 * const config = new EmbedderConfig().withModelType(ModelType.AllMiniLmL6V2).withBatchSize(32).withNormalize(true);
 * ```
 */
export class EmbedderConfig {
  readonly settings: Readonly<EmbedderSettings>;

  constructor(settings: Partial<EmbedderSettings> = {}) {
    this.settings = Object.freeze(validateSettings({ ...defaultSettings(), ...settings }));
  }

  /** Same as `new EmbedderConfig()`. */
  static create(settings: Partial<EmbedderSettings> = {}): EmbedderConfig {
    return new EmbedderConfig(settings);
  }

  #with(change: Partial<EmbedderSettings>): EmbedderConfig {
    return new EmbedderConfig({ ...this.settings, ...change });
  }

  withModelType(model: ModelType): EmbedderConfig {
    return this.#with({ model });
  }
  /** A folder holding model folders (like EMBEDDER_MODEL_PATH). */
  withModelPath(modelPath: string): EmbedderConfig {
    return this.#with({ modelPath });
  }
  withBatchSize(batchSize: number): EmbedderConfig {
    return this.#with({ batchSize });
  }
  withMaxBatchTokens(maxBatchTokens: number): EmbedderConfig {
    return this.#with({ maxBatchTokens });
  }
  /** Padded tokens allowed per real token in a batch (≥ 1; a huge value turns length cutting off). */
  withMaxPaddingRatio(maxPaddingRatio: number): EmbedderConfig {
    return this.#with({ maxPaddingRatio });
  }

  withBatchOverheadTokens(batchOverheadTokens: number): EmbedderConfig {
    return this.#with({ batchOverheadTokens });
  }
  withNormalize(normalize: boolean): EmbedderConfig {
    return this.#with({ normalize });
  }
  withTruncate(truncate: boolean): EmbedderConfig {
    return this.#with({ truncate });
  }
  withDevice(device: Device): EmbedderConfig {
    return this.#with({ device });
  }
  /** Entries in the in-memory cache; 0 turns it off. */
  withCacheSize(cacheSize: number): EmbedderConfig {
    return this.#with({ cacheSize });
  }
  withCacheTtl(cacheTtlMs: number): EmbedderConfig {
    return this.#with({ cacheTtlMs });
  }
  withCachePath(cachePath: string): EmbedderConfig {
    return this.#with({ cachePath });
  }

  /** A Redis cache tier shared between processes, behind the in-memory cache (see cacheRedisUrl). */
  withCacheRedisUrl(cacheRedisUrl: string): EmbedderConfig {
    return this.#with({ cacheRedisUrl });
  }
  /** `onnx`, `tfjs`, or `auto`. */
  withBackend(backend: string): EmbedderConfig {
    return this.#with({ backend });
  }
  withDtype(dtype: Dtype): EmbedderConfig {
    return this.#with({ dtype });
  }
  withThreads(threads: number): EmbedderConfig {
    return this.#with({ threads });
  }
  withReplicas(replicas: number): EmbedderConfig {
    return this.#with({ replicas });
  }
  withOffline(offline: boolean): EmbedderConfig {
    return this.#with({ offline });
  }

  /**
   * Throughput first: int8 weights, up to 64 texts per batch, every core, shared by two model replicas that run
   * batches side by side (see {@link throughputReplicas}). The token budget stays at 2048 per replica: 4096 was no
   * faster with two replicas (q8 mixed 58.1 vs 56.2 emb/s) and peaked at 615 MB on the mixed corpus.
   */
  highPerformance(): EmbedderConfig {
    return this.#with({
      preset: 'high-performance',
      dtype: 'q8',
      batchSize: Math.max(this.settings.batchSize, 64),
      maxBatchTokens: 2048,
      threads: Math.max(1, availableParallelism()),
      replicas: throughputReplicas(),
      memoryArena: true,
    });
  }

  /**
   * Memory first: a small token budget, a smaller cache, and one copy of the weights (one replica). The runtime's
   * memory arena stays on: measured on Linux (glibc), turning it off raised peak RSS (596 vs 434 MB on the mixed
   * corpus) and was slower; the `memoryArena` setting is there for allocators where it helps.
   */
  lowMemory(): EmbedderConfig {
    return this.#with({
      preset: 'low-memory',
      batchSize: Math.min(this.settings.batchSize, 8),
      maxBatchTokens: 1024,
      replicas: 1,
      cacheSize: Math.min(this.settings.cacheSize, 1000),
    });
  }

  /**
   * Records performance targets. The generator calibrates on the real model at start-up and picks dtype, token
   * budget and threads to meet them (see getStats().tuning); this sets a conservative starting point.
   */
  optimizeForConstraints(maxMemoryMb?: number, targetThroughput?: number, maxLatencyMs?: number): EmbedderConfig {
    const constraints: PerformanceConstraints = {
      ...(maxMemoryMb === undefined ? {} : { maxMemoryMb }),
      ...(targetThroughput === undefined ? {} : { targetThroughput }),
      ...(maxLatencyMs === undefined ? {} : { maxLatencyMs }),
    };
    const tight = maxMemoryMb !== undefined && maxMemoryMb < 1024;
    // The arena stays on: turning it off raised peak memory where measured (see lowMemory).
    return this.#with({
      preset: 'constrained',
      constraints,
      maxBatchTokens: tight ? 1024 : this.settings.maxBatchTokens,
      cacheSize: tight ? Math.min(this.settings.cacheSize, 2000) : this.settings.cacheSize,
    });
  }

  /**
   * Reads EMBEDDER_* variables over this config. A bad value throws INVALID_CONFIG naming the variable and
   * the accepted range.
   */
  withEnv(env: NodeJS.ProcessEnv = process.env): EmbedderConfig {
    return this.#with(settingsFromEnv(env));
  }
}

/** Settings from their variables (MODEL_SETTINGS' `env`, e.g. EMBEDDER_BATCH_SIZE, HF_HUB_OFFLINE); unset or empty ones are skipped. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): Partial<EmbedderSettings> {
  const settings: Record<string, unknown> = {};
  for (const setting of MODEL_SETTINGS) {
    const name = setting.env.find((variable) => env[variable] !== undefined && env[variable] !== '');
    if (name !== undefined) settings[setting.key] = parseSettingText(setting.kind, env[name]!, name);
  }
  return settings as Partial<EmbedderSettings>;
}

/**
 * How --help shows a setting's flag: a boolean shows the form that changes its default (`--no-normalize` when on,
 * `--offline` when off; both when the default depends on the model), anything else `--flag <value>` and its default.
 */
export function settingFlagHelp(setting: SettingDefinition): { flag: string; description: string } {
  const fallback = DEFAULTS[setting.key];
  const negated = setting.negatedDescription ?? `not: ${setting.description}`;
  if (setting.kind.type === 'boolean' && fallback === true) return { flag: `--no-${setting.flag}`, description: negated };
  if (setting.kind.type === 'boolean' && fallback === false) return { flag: `--${setting.flag}`, description: setting.description };
  const shown = setting.defaultText ?? (fallback === undefined ? undefined : String(fallback));
  const withDefault = (text: string) => (shown === undefined ? text : `${text} (default ${shown})`);
  if (setting.kind.type === 'boolean') return { flag: `--${setting.flag}, --no-${setting.flag}`, description: withDefault(`${setting.description}, or not`) };
  return { flag: `--${setting.flag} <${setting.valueName ?? 'value'}>`, description: withDefault(setting.description) };
}
