import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BatchEvent, GeneratorStats } from '@embedder-rag/embedder';

/** Durations in seconds (as TEI reports them): 1 ms to about 30 s. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Powers of two, for sizes and token counts. */
const powersOfTwo = (upTo: number): number[] => {
  const buckets: number[] = [];
  for (let value = 1; value <= upTo; value *= 2) buckets.push(value);
  return buckets;
};

/** What a model reports to /metrics at scrape time. */
export interface MetricsSource {
  name: string;
  stats(): GeneratorStats;
  queuedInputs(): number;
}

/**
 * The service's Prometheus metrics: TEI's names (so TEI dashboards work) plus embedder's cache metrics.
 * Each server has its own registry, so several servers in one process (tests) do not collide.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requestCount: Counter<'method'>;
  readonly requestSuccess: Counter<'method'>;
  readonly requestFailure: Counter<'err'>;
  readonly requestDuration: Histogram;
  readonly tokenizationDuration: Histogram;
  readonly queueDuration: Histogram;
  readonly inferenceDuration: Histogram;
  readonly inputLength: Histogram;
  readonly batchSize: Histogram;
  readonly batchTokens: Histogram;
  readonly batchInferenceDuration: Histogram;
  #sources: MetricsSource[] = [];

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requestCount = new Counter({ name: 'te_request_count', help: 'Inference requests received', labelNames: ['method'], registers });
    this.requestSuccess = new Counter({ name: 'te_request_success', help: 'Inference requests answered 200', labelNames: ['method'], registers });
    this.requestFailure = new Counter({
      name: 'te_request_failure',
      help: 'Inference requests that failed, by error type (validation, overloaded, tokenization, inference, …)',
      labelNames: ['err'],
      registers,
    });
    const histogram = (name: string, help: string, buckets: number[]) => new Histogram({ name, help, buckets, registers });
    this.requestDuration = histogram('te_request_duration', 'Request duration in seconds', DURATION_BUCKETS);
    this.tokenizationDuration = histogram('te_request_tokenization_duration', 'Tokenization time per request in seconds', DURATION_BUCKETS);
    this.queueDuration = histogram('te_request_queue_duration', 'Queue time per request in seconds', DURATION_BUCKETS);
    this.inferenceDuration = histogram('te_request_inference_duration', 'Inference time per request in seconds', DURATION_BUCKETS);
    this.inputLength = histogram('te_request_input_length', 'Tokens per input', powersOfTwo(8192));
    this.batchSize = histogram('te_batch_next_size', 'Inputs per inference batch', powersOfTwo(4096));
    this.batchTokens = histogram('te_batch_next_tokens', 'Padded tokens per inference batch', powersOfTwo(1_048_576));
    this.batchInferenceDuration = histogram('te_batch_inference_duration', 'Inference time per batch in seconds', DURATION_BUCKETS);

    const sources = () => this.#sources;
    new Gauge({
      name: 'te_queue_size',
      help: 'Inputs waiting for inference',
      registers,
      collect() {
        this.set(sources().reduce((sum, source) => sum + source.queuedInputs(), 0));
      },
    });
    // One series per model; a model whose stats lack the value (no shared cache tier) has none.
    const statGauge = (name: string, help: string, pick: (stats: GeneratorStats) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['model'],
        registers,
        collect() {
          for (const source of sources()) {
            const value = pick(source.stats());
            if (value !== undefined) this.set({ model: source.name }, value);
          }
        },
      });
    statGauge('embedder_cache_hits_total', 'Embedding cache hits since start', (s) => s.cacheHits);
    statGauge('embedder_cache_misses_total', 'Embedding cache misses since start', (s) => s.cacheMisses);
    statGauge('embedder_cache_size', 'Entries in the embedding cache', (s) => s.cacheSize);
    statGauge('embedder_cache_evictions_total', 'Entries evicted from the embedding cache since start', (s) => s.cacheEvictions);
    // The shared tier (EMBEDDER_CACHE_REDIS_URL).
    const tierGauge = (name: string, help: string, pick: (tier: NonNullable<GeneratorStats['cacheTier']>) => number) =>
      statGauge(name, help, (s) => (s.cacheTier === undefined ? undefined : pick(s.cacheTier)));
    tierGauge('embedder_cache_tier_up', 'Shared cache tier (Redis): 1 while connected, 0 while unreachable (lookups are misses, writes dropped)', (t) => (t.up ? 1 : 0));
    tierGauge('embedder_cache_tier_hits_total', 'Shared cache tier lookups answered with a valid vector', (t) => t.hits);
    tierGauge('embedder_cache_tier_misses_total', 'Shared cache tier lookups without a usable vector (absent, refused, or the tier failing)', (t) => t.misses);
    tierGauge('embedder_cache_tier_rejected_total', 'Shared cache tier values refused: wrong format, dimension or checksum (read as misses)', (t) => t.rejected);
    tierGauge('embedder_cache_tier_errors_total', 'Shared cache tier commands that failed, timed out, or were skipped while it was down', (t) => t.errors);
    statGauge('embedder_embeddings_total', 'Embeddings produced since start', (s) => s.totalEmbeddings);
    statGauge('embedder_batches_total', 'Inference batches run since start', (s) => s.totalBatches);
    new Gauge({
      name: 'embedder_device_info',
      help: 'Always 1: the device each model asked for and the one it runs on; fallback=1 when auto skipped a GPU (the reason is in the startup log and /info)',
      labelNames: ['model', 'requested', 'used', 'fallback'],
      registers,
      collect() {
        this.reset();
        for (const source of sources()) {
          const { requested, used, skipped } = source.stats().device;
          this.set({ model: source.name, requested, used, fallback: skipped.length > 0 ? '1' : '0' }, 1);
        }
      },
    });
    new Gauge({
      name: 'embedder_device_gpu_max_abs_diff',
      help: 'On a GPU: the largest absolute difference between its vectors and the CPU vectors on a probe batch at load',
      labelNames: ['model'],
      registers,
      collect() {
        this.reset();
        for (const source of sources()) {
          const diff = source.stats().device.gpuMaxAbsDiff;
          if (diff !== undefined) this.set({ model: source.name }, diff);
        }
      },
    });
  }

  /** Adds a model whose stats and queue are read at scrape time. */
  addSource(source: MetricsSource): void {
    this.#sources.push(source);
  }

  /** Stops reading a model (it was unloaded). */
  removeSource(name: string): void {
    this.#sources = this.#sources.filter((source) => source.name !== name);
  }

  /** Records one inference batch (the facade's onBatch event). */
  observeBatch(event: BatchEvent): void {
    this.batchSize.observe(event.size);
    this.batchTokens.observe(event.paddedTokens);
    this.batchInferenceDuration.observe(event.inferenceMs / 1000);
  }

  /** The Prometheus text exposition. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
