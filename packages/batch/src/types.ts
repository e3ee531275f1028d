import type { Logger } from '@embedder-rag/core';

/** What the scheduler needs to know of a unit of work: its size. Everything else is the caller's. */
export interface SchedulableItem {
  /** Tokens this item occupies in a batch (after truncation, special tokens included). At least 1. */
  readonly tokens: number;
}

/** Facts about one executed batch, passed to {@link BatchSchedulerOptions.onBatch}. */
export interface BatchRunEvent {
  /** Items in the batch. */
  size: number;
  /** Padded tokens: longest item × size (what the model actually computes). */
  paddedTokens: number;
  /** Real tokens (the sum of the items' tokens). */
  tokens: number;
  /** Time execute() took, in ms. */
  executeMs: number;
  /** Time the oldest item of the batch waited between submit and the start of execute, in ms. */
  queueMs: number;
  /** The token budget in force when the batch was formed. */
  budget: number;
}

/** Options of {@link BatchScheduler}. */
export interface BatchSchedulerOptions<I extends SchedulableItem, P, R> {
  /** Collates a batch (e.g. pads token ids into typed arrays). Synchronous: it runs while the previous batch executes. */
  prepare: (items: readonly I[]) => P;
  /** Runs a prepared batch and returns one result per item, in the order of `items`. */
  execute: (prepared: P, items: readonly I[]) => Promise<readonly R[]>;
  /** Most padded tokens (longest × count) in one batch; an item longer than this runs alone. @default 8192 */
  maxBatchTokens?: number;
  /** Most items in one batch. @default 32 */
  maxBatchSize?: number;
  /**
   * Most padded tokens per real token in a batch: a sorted window is cut where lengths drop so far that the batch
   * would be mostly padding. 1 = only equal lengths batch together. @default 1.2
   */
  maxPaddingRatio?: number;
  /**
   * What running one more batch costs, in padded tokens (measured for MiniLM on 2 cores: about 8 fp32, 16 q8). Set,
   * a sorted window is cut at the least total cost (padded tokens + this per batch, {@link cheapestCuts}) within
   * maxPaddingRatio; unset, it is cut greedily, longest first, wherever maxPaddingRatio would be exceeded.
   */
  batchOverheadTokens?: number;
  /**
   * Items taken from the queue at once and sorted by length, so batches hold texts of similar length and pad little.
   * A window is drained before the next is taken, which bounds how far a later call can overtake an earlier one.
   * @default 1024
   */
  windowSize?: number;
  /** Most items waiting (queued, not yet executing); a submit that would exceed it fails at once with OVERLOADED. @default Infinity */
  maxQueueItems?: number;
  /**
   * Batches prepared ahead while one executes (pipelining). Only full batches are prepared ahead, so a trickle of
   * small calls still merges into one batch. 0 turns pipelining off. @default 1
   */
  prefetch?: number;
  /**
   * Batches executing at once (a backend session with several model replicas). When fewer items wait than would fill
   * every idle slot, they are spread evenly over the idle slots, so one small call finishes sooner. @default 1
   */
  concurrency?: number;
  /**
   * Adapt the token budget so that one batch takes about this long (ms), from measured execute times. The budget stays
   * within [minBatchTokens, maxBatchTokens]. Unset: the budget is maxBatchTokens.
   */
  targetLatencyMs?: number;
  /** Lower bound of the adaptive budget. @default 256 */
  minBatchTokens?: number;
  /** Milliseconds clock (inject one in tests). @default performance.now */
  clock?: () => number;
  /** Called after every executed batch. Exceptions thrown by it are logged and ignored. */
  onBatch?: (event: BatchRunEvent) => void;
  logger?: Logger;
}

/** Per-call options of {@link BatchScheduler.submit}. */
export interface SubmitOptions {
  /** Drops this call's items that have not started executing; the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** What {@link BatchScheduler.submitDetailed} resolves to. */
export interface SubmitOutcome<R> {
  /** One result per submitted item, in submit order. */
  results: R[];
  /** From submit until the first batch holding one of the items started, in ms. */
  queueMs: number;
  /** Sum of execute() times of the batches that held the items (shared batches counted whole), in ms. */
  executeMs: number;
  /** Batches that held the items. */
  batches: number;
}

/** Counters since the scheduler was created. */
export interface SchedulerStats {
  batches: number;
  items: number;
  tokens: number;
  paddedTokens: number;
  /** Total execute() time, in ms. */
  executeMs: number;
  /** Items waiting (not yet executing). */
  queued: number;
  /** Items in the batch executing now. */
  running: number;
  /** The token budget now (adaptive when a latency target is set). */
  budget: number;
  /** tokens / paddedTokens: 1 means no padding at all. */
  paddingEfficiency: number;
}
