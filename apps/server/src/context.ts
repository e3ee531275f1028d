import type { Logger } from '@embedder-rag/core';
import type { ServerConfig } from './config';
import { HttpError } from './errors';
import type { ServerMetrics } from './metrics';
import type { ModelPool } from './models';

/** Lifecycle of the service, as /health and /ready report it. */
export type ServerPhase = 'loading' | 'ready' | 'draining' | 'closed' | 'failed';

/** What every route plugin gets: config, metrics, the models once loaded, and the lifecycle phase. */
export class AppContext {
  phase: ServerPhase = 'loading';
  /** Requests currently inside an inference route (for max_concurrent_requests). */
  inFlight = 0;
  /** Set when an inference batch failed for a backend reason; cleared by the next success. */
  lastBackendError: string | undefined;
  #pool: ModelPool | undefined;

  constructor(
    readonly config: ServerConfig,
    readonly metrics: ServerMetrics,
    readonly logger: Logger,
    readonly version: string,
  ) {}

  /** Installs the loaded models and marks the service ready. */
  setPool(pool: ModelPool): void {
    this.#pool = pool;
    this.phase = 'ready';
  }

  get pool(): ModelPool | undefined {
    return this.#pool;
  }

  /** The models, or a 503 while they load (or after shutdown). */
  models(): ModelPool {
    if (this.#pool === undefined || this.phase === 'closed' || this.phase === 'failed') {
      throw new HttpError(503, 'Unhealthy', `the service is not ready (${this.phase}); retry shortly`, { 'retry-after': '1' });
    }
    return this.#pool;
  }
}
