import { DEFAULT_MAX_PADDING_RATIO, EmbedderError, noopLogger, toEmbedderError, type Logger } from '@embedder-rag/core';
import { AdaptiveBudget } from './adaptive-budget';
import { batchCapacity, cheapestCuts, paddingBoundedCount, sortByLength } from './plan';
import type {
  BatchRunEvent,
  BatchSchedulerOptions,
  SchedulableItem,
  SchedulerStats,
  SubmitOptions,
  SubmitOutcome,
} from './types';

interface Request<R> {
  results: (R | undefined)[];
  remaining: number;
  settled: boolean;
  submittedAt: number;
  firstStartAt: number | undefined;
  executeMs: number;
  batches: number;
  /** Sequence number of the last batch counted for this call. */
  lastBatch: number;
  resolve(outcome: SubmitOutcome<R>): void;
  reject(error: unknown): void;
  detach(): void;
}

interface Entry<I, R> {
  request: Request<R>;
  index: number;
  item: I;
  tokens: number;
  enqueuedAt: number;
}

interface ReadyBatch<I, P, R> {
  entries: Entry<I, R>[];
  prepared: P;
  budget: number;
}

function checkCount(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new EmbedderError('INVALID_CONFIG', `batch scheduler: ${name} must be a whole number >= ${min}, got ${value}`, {
      details: { field: name, value },
    });
  }
  return value;
}

/**
 * Merges the items of concurrent submit() calls into batches under a token budget, sorted by length within a window,
 * runs one batch at a time (or `concurrency` at once) while the next is prepared, and hands each call its results in
 * input order.
 * It knows nothing of models: items carry a token count, the caller supplies prepare() and execute().
 */
export class BatchScheduler<I extends SchedulableItem, P, R> {
  readonly #prepare: (items: readonly I[]) => P;
  readonly #execute: (prepared: P, items: readonly I[]) => Promise<readonly R[]>;
  readonly #maxBatchTokens: number;
  readonly #maxBatchSize: number;
  readonly #windowSize: number;
  readonly #maxPaddingRatio: number;
  readonly #batchOverheadTokens: number | undefined;
  readonly #maxQueueItems: number;
  readonly #prefetch: number;
  readonly #concurrency: number;
  readonly #adaptive: AdaptiveBudget | undefined;
  readonly #clock: () => number;
  readonly #onBatch: ((event: BatchRunEvent) => void) | undefined;
  readonly #logger: Logger;

  #queue: Entry<I, R>[] = [];
  #window: Entry<I, R>[] = [];
  #windowPos = 0;
  /** The window's cheapest cutting (batchOverheadTokens), for the budget it was made with; dropped when the window changes. */
  #cuts: { sizes: Int32Array; budget: number } | undefined;
  #ready: ReadyBatch<I, P, R>[] = [];
  #running = 0;
  #runningItems = 0;
  #pumpScheduled = false;
  #closed = false;
  #idle: (() => void)[] = [];
  #batchSeq = 0;
  #stats = { batches: 0, items: 0, tokens: 0, paddedTokens: 0, executeMs: 0 };

  constructor(options: BatchSchedulerOptions<I, P, R>) {
    this.#prepare = options.prepare;
    this.#execute = options.execute;
    this.#maxBatchTokens = checkCount('maxBatchTokens', options.maxBatchTokens ?? 8192, 1);
    this.#maxBatchSize = checkCount('maxBatchSize', options.maxBatchSize ?? 32, 1);
    this.#windowSize = checkCount('windowSize', options.windowSize ?? 1024, 1);
    this.#maxPaddingRatio = options.maxPaddingRatio ?? DEFAULT_MAX_PADDING_RATIO;
    if (!(this.#maxPaddingRatio >= 1)) {
      throw new EmbedderError('INVALID_CONFIG', `batch scheduler: maxPaddingRatio must be at least 1, got ${this.#maxPaddingRatio}`);
    }
    if (options.batchOverheadTokens !== undefined && !(options.batchOverheadTokens >= 0)) {
      throw new EmbedderError('INVALID_CONFIG', `batch scheduler: batchOverheadTokens must be 0 or more, got ${options.batchOverheadTokens}`);
    }
    this.#batchOverheadTokens = options.batchOverheadTokens;
    const maxQueue = options.maxQueueItems ?? Number.POSITIVE_INFINITY;
    this.#maxQueueItems = maxQueue === Number.POSITIVE_INFINITY ? maxQueue : checkCount('maxQueueItems', maxQueue, 1);
    this.#prefetch = checkCount('prefetch', options.prefetch ?? 1, 0);
    this.#concurrency = checkCount('concurrency', options.concurrency ?? 1, 1);
    this.#clock = options.clock ?? (() => performance.now());
    this.#onBatch = options.onBatch;
    this.#logger = options.logger ?? noopLogger;
    if (options.targetLatencyMs !== undefined) {
      if (!(options.targetLatencyMs > 0)) {
        throw new EmbedderError('INVALID_CONFIG', `batch scheduler: targetLatencyMs must be more than 0, got ${options.targetLatencyMs}`);
      }
      this.#adaptive = new AdaptiveBudget({
        targetLatencyMs: options.targetLatencyMs,
        minTokens: checkCount('minBatchTokens', options.minBatchTokens ?? 256, 1),
        maxTokens: this.#maxBatchTokens,
      });
    }
  }

  /** The token budget now: maxBatchTokens, or the adaptive budget when a latency target is set. */
  get budget(): number {
    return this.#adaptive?.tokens ?? this.#maxBatchTokens;
  }

  /** Items waiting (queued or prepared, not yet executing). */
  queued(): number {
    let prepared = 0;
    for (const batch of this.#ready) prepared += batch.entries.length;
    return this.#queue.length + (this.#window.length - this.#windowPos) + prepared;
  }

  /** Items in the batches executing now. */
  running(): number {
    return this.#runningItems;
  }

  /** Counters since creation. */
  stats(): SchedulerStats {
    const s = this.#stats;
    return {
      ...s,
      queued: this.queued(),
      running: this.#runningItems,
      budget: this.budget,
      paddingEfficiency: s.paddedTokens > 0 ? s.tokens / s.paddedTokens : 1,
    };
  }

  /** Schedules items and resolves with one result per item, in input order. */
  async submit(items: readonly I[], options: SubmitOptions = {}): Promise<R[]> {
    return (await this.submitDetailed(items, options)).results;
  }

  /**
   * Like {@link submit}, with queue and execute times.
   * @throws EmbedderError OVERLOADED when the items would exceed maxQueueItems, DISPOSED after close(),
   *   INVALID_INPUT for an item without a positive token count; the signal's reason when aborted.
   */
  submitDetailed(items: readonly I[], options: SubmitOptions = {}): Promise<SubmitOutcome<R>> {
    const { signal } = options;
    if (this.#closed) return Promise.reject(new EmbedderError('DISPOSED', 'batch scheduler is closed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const bad = items.findIndex((item) => !Number.isFinite(item.tokens) || item.tokens < 1);
    if (bad >= 0) {
      return Promise.reject(
        new EmbedderError('INVALID_INPUT', `item ${bad} has no valid token count (${String(items[bad]?.tokens)})`, {
          details: { index: bad },
        }),
      );
    }
    if (items.length === 0) return Promise.resolve({ results: [], queueMs: 0, executeMs: 0, batches: 0 });
    const queued = this.queued();
    if (queued + items.length > this.#maxQueueItems) {
      return Promise.reject(
        new EmbedderError(
          'OVERLOADED',
          `queue full: ${queued} inputs waiting, ${items.length} more would exceed the limit of ${this.#maxQueueItems}`,
          { details: { queued, requested: items.length, limit: this.#maxQueueItems } },
        ),
      );
    }
    return new Promise<SubmitOutcome<R>>((resolve, reject) => {
      const now = this.#clock();
      const onAbort = (): void => this.#settle(request, signal?.reason);
      const request: Request<R> = {
        results: new Array<R | undefined>(items.length),
        remaining: items.length,
        settled: false,
        submittedAt: now,
        firstStartAt: undefined,
        executeMs: 0,
        batches: 0,
        lastBatch: 0,
        resolve,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      items.forEach((item, index) => this.#queue.push({ request, index, item, tokens: item.tokens, enqueuedAt: now }));
      this.#schedulePump();
    });
  }

  /** Rejects everything waiting with DISPOSED, refuses new work, and resolves once the running batch is done. */
  close(): Promise<void> {
    this.#closed = true;
    const error = new EmbedderError('DISPOSED', 'batch scheduler is closed');
    const waiting = [...this.#queue, ...this.#window.slice(this.#windowPos), ...this.#ready.flatMap((b) => b.entries)];
    this.#ready = [];
    for (const entry of waiting) this.#settle(entry.request, error);
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  // A microtask, so that calls made in the same tick merge into one batch.
  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#running < this.#concurrency) {
      const batch = this.#ready.shift() ?? this.#prepareNext(false);
      if (!batch) break;
      this.#start(batch);
    }
    while (this.#running > 0 && this.#ready.length < this.#prefetch) {
      const batch = this.#prepareNext(true);
      if (!batch) break;
      this.#ready.push(batch);
    }
    if (this.#running === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Takes the next batch from the window (refilling it from the queue) and prepares it. */
  #prepareNext(onlyFull: boolean): ReadyBatch<I, P, R> | undefined {
    for (;;) {
      const entries = this.#cut(onlyFull);
      if (!entries) return undefined;
      const live = entries.filter((entry) => !entry.request.settled);
      if (live.length === 0) continue;
      const budget = this.budget;
      try {
        return { entries: live, prepared: this.#prepare(live.map((entry) => entry.item)), budget };
      } catch (error) {
        this.#fail(live, toEmbedderError(error, 'INFERENCE_FAILED', 'preparing a batch failed'));
      }
    }
  }

  #cut(onlyFull: boolean): Entry<I, R>[] | undefined {
    const budget = this.budget;
    if (this.#windowPos >= this.#window.length) {
      if (this.#queue.length === 0) return undefined;
      // Ahead of time, only start a window that yields a full batch: a partial one could still grow by merging.
      if (onlyFull && !this.#queueFillsBatch(budget)) return undefined;
      this.#window = sortByLength(this.#queue.splice(0, this.#windowSize));
      this.#windowPos = 0;
      this.#cuts = undefined;
    }
    const longest = this.#window[this.#windowPos]?.tokens ?? 1;
    const capacity = batchCapacity(longest, budget, this.#maxBatchSize);
    // Starting now with several idle slots and too little work to fill them all: share it out by tokens so the slots
    // finish together. Balance matters more here than the padding bound: a cut made for padding would leave the
    // rest to one slot.
    const idle = this.#concurrency - this.#running;
    const sharing = !onlyFull && idle > 1 && this.#window.length - this.#windowPos + this.#queue.length < idle * capacity;
    const count = sharing ? Math.min(capacity, this.#fairShare(idle)) : this.#paddingCut(budget, capacity);
    const entries = this.#window.slice(this.#windowPos, this.#windowPos + count);
    this.#windowPos += entries.length;
    if (this.#windowPos >= this.#window.length) {
      this.#window = [];
      this.#windowPos = 0;
      this.#cuts = undefined;
    }
    return entries;
  }

  /** How many items from the window's position make the next batch, by padding (see batchOverheadTokens). */
  #paddingCut(budget: number, capacity: number): number {
    const overhead = this.#batchOverheadTokens;
    if (overhead === undefined) return paddingBoundedCount(this.#window, this.#windowPos, capacity, this.#maxPaddingRatio);
    if (this.#cuts === undefined || this.#cuts.budget !== budget) {
      const sizes = cheapestCuts(this.#window, this.#windowPos, (longest) => batchCapacity(longest, budget, this.#maxBatchSize), this.#maxPaddingRatio, overhead);
      this.#cuts = { sizes, budget };
    }
    return this.#cuts.sizes[this.#windowPos]!;
  }

  /**
   * Items from the window's position whose tokens come to a 1/`slots` share of all waiting tokens (the window is
   * sorted longest first, so this batch's longer items are fewer).
   */
  #fairShare(slots: number): number {
    let total = 0;
    for (let i = this.#windowPos; i < this.#window.length; i++) total += this.#window[i]!.tokens;
    for (const entry of this.#queue) total += entry.tokens;
    let taken = 0;
    let count = 0;
    while (this.#windowPos + count < this.#window.length && taken * slots < total) taken += this.#window[this.#windowPos + count++]!.tokens;
    return Math.max(1, count);
  }

  #queueFillsBatch(budget: number): boolean {
    const take = Math.min(this.#queue.length, this.#windowSize);
    let longest = 1;
    for (let i = 0; i < take; i++) longest = Math.max(longest, this.#queue[i]?.tokens ?? 1);
    return take >= batchCapacity(longest, budget, this.#maxBatchSize);
  }

  #start(batch: ReadyBatch<I, P, R>): void {
    const { entries } = batch;
    this.#running++;
    this.#runningItems += entries.length;
    const seq = ++this.#batchSeq;
    const startedAt = this.#clock();
    let oldest = startedAt;
    let tokens = 0;
    let longest = 0;
    for (const entry of entries) {
      entry.request.firstStartAt ??= startedAt;
      oldest = Math.min(oldest, entry.enqueuedAt);
      tokens += entry.tokens;
      longest = Math.max(longest, entry.tokens);
    }
    const padded = longest * entries.length;
    let run: Promise<readonly R[]>;
    try {
      run = this.#execute(batch.prepared, entries.map((entry) => entry.item));
    } catch (error) {
      run = Promise.reject(error);
    }
    run.then(
      (results) => {
        const executeMs = this.#clock() - startedAt;
        this.#running--;
        this.#runningItems -= entries.length;
        this.#pump();
        this.#record({ size: entries.length, paddedTokens: padded, tokens, executeMs, queueMs: startedAt - oldest, budget: batch.budget });
        if (results.length !== entries.length) {
          this.#fail(entries, new EmbedderError('INFERENCE_FAILED', `a batch of ${entries.length} items returned ${results.length} results`));
          return;
        }
        entries.forEach((entry, i) => this.#deliver(entry, results[i] as R, seq, executeMs));
      },
      (error: unknown) => {
        this.#running--;
        this.#runningItems -= entries.length;
        this.#pump();
        this.#fail(entries, toEmbedderError(error, 'INFERENCE_FAILED', 'a batch failed'));
      },
    );
  }

  #record(event: BatchRunEvent): void {
    const s = this.#stats;
    s.batches++;
    s.items += event.size;
    s.tokens += event.tokens;
    s.paddedTokens += event.paddedTokens;
    s.executeMs += event.executeMs;
    this.#adaptive?.record(event.paddedTokens, event.executeMs);
    if (!this.#onBatch) return;
    try {
      this.#onBatch(event);
    } catch (error) {
      this.#logger.warn('onBatch listener threw', { error: String(error) });
    }
  }

  #deliver(entry: Entry<I, R>, result: R, seq: number, executeMs: number): void {
    const request = entry.request;
    if (request.settled) return;
    request.results[entry.index] = result;
    request.remaining--;
    // A batch counts once per call, however many of the call's items it held.
    if (request.lastBatch !== seq) {
      request.batches++;
      request.executeMs += executeMs;
      request.lastBatch = seq;
    }
    if (request.remaining > 0) return;
    request.settled = true;
    request.detach();
    request.resolve({
      results: request.results as R[],
      queueMs: (request.firstStartAt ?? request.submittedAt) - request.submittedAt,
      executeMs: request.executeMs,
      batches: request.batches,
    });
  }

  #fail(entries: readonly Entry<I, R>[], error: unknown): void {
    for (const entry of entries) this.#settle(entry.request, error);
  }

  /** Rejects a call and drops its items that have not been prepared. */
  #settle(request: Request<R>, reason: unknown): void {
    if (request.settled) return;
    request.settled = true;
    request.detach();
    this.#queue = this.#queue.filter((entry) => entry.request !== request);
    this.#window = this.#window.slice(this.#windowPos).filter((entry) => entry.request !== request);
    this.#windowPos = 0;
    this.#cuts = undefined;
    request.reject(reason);
  }
}
