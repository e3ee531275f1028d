import { buildConfig, type ModelFlags } from '../config';
import { createGenerator } from '../generator';
import { createStderrLogger } from '../logger';
import { queueTarget, type QueueFlags } from './queue-flags';

/** Flags of `embedder worker`. */
export interface WorkerFlags extends ModelFlags, QueueFlags {
  concurrency?: number;
  metricsPort?: number;
  stalledInterval?: number;
  lockDuration?: number;
}

/**
 * `embedder worker --queue URL`: takes jobs until SIGTERM or SIGINT, then finishes the jobs in progress and returns
 * (exit 0). A queue recorded for another model or dtype is refused with MODEL_MISMATCH (exit 11).
 */
export async function runWorker(flags: WorkerFlags): Promise<void> {
  const target = await queueTarget(flags);
  // No generator cache: the sink is the cache of the distributed mode.
  const config = buildConfig({ ...flags, cacheSize: 0 });
  const logger = createStderrLogger(flags.verbose === true);
  const { startWorker, WorkerMetrics } = await import('@embedder-rag/distributed');
  const generator = await createGenerator(config, logger);
  let metrics: InstanceType<typeof WorkerMetrics> | undefined;
  let fatal: Error | undefined;
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  try {
    const worker = await startWorker({
      ...target,
      engine: generator,
      ...(flags.concurrency === undefined ? {} : { concurrency: flags.concurrency }),
      ...(flags.stalledInterval === undefined ? {} : { stalledIntervalMs: flags.stalledInterval }),
      ...(flags.lockDuration === undefined ? {} : { lockDurationMs: flags.lockDuration }),
      logger,
      onJob: (event) => metrics?.observe(event),
      onFatal: (error) => {
        fatal = error;
        stop();
      },
    });
    metrics = new WorkerMetrics(worker.queue);
    const server = flags.metricsPort === undefined ? undefined : await metrics.serve(flags.metricsPort);
    const onSignal = () => stop();
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    // The line a supervisor (or a test) waits for.
    process.stderr.write(`embedder worker: ready on queue ${target.queueName ?? 'embedder'} at ${target.address.display}\n`);
    await stopped;
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await worker.close();
    server?.close();
    if (fatal) throw fatal;
  } finally {
    await generator.dispose().catch((error: unknown) => logger.warn('dispose failed', { error: String(error) }));
  }
}
