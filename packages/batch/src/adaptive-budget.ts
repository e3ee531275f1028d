/** Options of {@link AdaptiveBudget}. */
export interface AdaptiveBudgetOptions {
  /** Wanted duration of one batch, in ms. */
  targetLatencyMs: number;
  /** Lowest budget, in padded tokens. */
  minTokens: number;
  /** Highest budget, in padded tokens (also the starting point). */
  maxTokens: number;
  /** Weight of the newest measurement in the moving average (0..1]. @default 0.3 */
  smoothing?: number;
}

/**
 * A token budget that follows measured batch latency: it keeps an exponential moving average of ms per padded token
 * and sets the budget to targetLatencyMs / msPerToken, clamped. Linear in tokens is a simplification (attention is
 * quadratic in length), which the moving average absorbs for a stable mix of lengths.
 */
export class AdaptiveBudget {
  readonly #target: number;
  readonly #min: number;
  readonly #max: number;
  readonly #smoothing: number;
  #msPerToken: number | undefined;
  #budget: number;

  constructor(options: AdaptiveBudgetOptions) {
    this.#target = options.targetLatencyMs;
    this.#min = Math.max(1, Math.min(options.minTokens, options.maxTokens));
    this.#max = Math.max(this.#min, options.maxTokens);
    this.#smoothing = options.smoothing ?? 0.3;
    this.#budget = this.#max;
  }

  /** The budget now, in padded tokens. */
  get tokens(): number {
    return this.#budget;
  }

  /** The averaged cost, in ms per padded token (undefined before the first measurement). */
  get msPerToken(): number | undefined {
    return this.#msPerToken;
  }

  /** Feeds one batch's padded tokens and its execute time (ms). Ignores empty or non-finite measurements. */
  record(paddedTokens: number, executeMs: number): void {
    if (!(paddedTokens > 0) || !Number.isFinite(executeMs) || executeMs < 0) return;
    const sample = executeMs / paddedTokens;
    this.#msPerToken =
      this.#msPerToken === undefined ? sample : this.#smoothing * sample + (1 - this.#smoothing) * this.#msPerToken;
    const wanted = this.#msPerToken > 0 ? Math.floor(this.#target / this.#msPerToken) : this.#max;
    this.#budget = Math.min(this.#max, Math.max(this.#min, wanted));
  }
}
