import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import type { JobEvent } from './worker';
import type { QueueConnection } from './queue';

/**
 * Prometheus metrics of a worker. TEI's names where TEI has the concept (a job is a request of method "queue",
 * te_queue_size the waiting jobs), embedder_worker_* for the rest; chunks/s is rate(embedder_worker_chunks_total).
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly #jobs: Counter;
  readonly #success: Counter;
  readonly #failure: Counter;
  readonly #chunks: Counter;
  readonly #seconds: Counter;
  readonly #chunksPerSecond: Gauge;
  readonly #redisSeconds: Counter;

  constructor(queue: Pick<QueueConnection, 'queue'>) {
    const registers = [this.registry];
    this.#jobs = new Counter({ name: 'te_request_count', help: 'Jobs taken', labelNames: ['method'], registers });
    this.#success = new Counter({ name: 'te_request_success', help: 'Jobs completed (split ones included)', labelNames: ['method'], registers });
    this.#failure = new Counter({ name: 'te_request_failure', help: 'Job runs that failed (each retry counts)', labelNames: ['method', 'err'], registers });
    this.#chunks = new Counter({ name: 'embedder_worker_chunks_total', help: 'Chunks embedded by this worker', registers });
    this.#seconds = new Counter({ name: 'embedder_worker_job_seconds_total', help: 'Seconds spent in jobs', registers });
    this.#redisSeconds = new Counter({ name: 'embedder_worker_redis_seconds_total', help: 'Seconds of those jobs spent on Redis (sink, counters)', registers });
    this.#chunksPerSecond = new Gauge({ name: 'embedder_worker_chunks_per_second', help: 'Chunks per second of the last job', registers });
    new Gauge({
      name: 'te_queue_size',
      help: 'Jobs waiting in the queue (all workers)',
      registers,
      async collect() {
        const counts = await queue.queue.getJobCounts('waiting', 'prioritized', 'delayed');
        this.set((counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0));
      },
    });
    new Gauge({
      name: 'embedder_worker_failed_jobs',
      help: 'Jobs in the failed set (all workers)',
      registers,
      async collect() {
        this.set((await queue.queue.getJobCounts('failed')).failed ?? 0);
      },
    });
  }

  observe(event: JobEvent): void {
    this.#jobs.inc({ method: 'queue' });
    if (event.outcome === 'failed') this.#failure.inc({ method: 'queue', err: 'job' });
    else this.#success.inc({ method: 'queue' });
    this.#chunks.inc(event.embedded);
    this.#seconds.inc(event.seconds);
    this.#redisSeconds.inc(event.redisSeconds);
    if (event.seconds > 0 && event.embedded > 0) this.#chunksPerSecond.set(event.embedded / event.seconds);
  }

  /** Serves GET /metrics on `port` (127.0.0.1 unless `host`); resolves once listening. */
  async serve(port: number, host = '127.0.0.1'): Promise<Server> {
    const server = createServer((request, response) => {
      if (request.url !== '/metrics') {
        response.writeHead(404).end();
        return;
      }
      this.registry
        .metrics()
        .then((text) => response.writeHead(200, { 'content-type': this.registry.contentType }).end(text))
        .catch((error: unknown) => response.writeHead(500).end(String(error)));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return server;
  }
}
