import { EmbedderError } from '@embedder-rag/core';
import { buildConfig } from '../config';
import { createGenerator } from '../generator';
import type { InputRecord } from '../input';
import { createStderrLogger } from '../logger';
import { formatEmbeddingLine, openOutput } from '../output';
import { createProgress, shouldDrawProgress } from '../progress';
import { openTextSource } from './source';
import type { EmbedFlags } from './embed';
import { queueTarget, type QueueFlags } from './queue-flags';

/** Flags of `embedder embed --queue`. */
export interface QueuedEmbedFlags extends EmbedFlags, QueueFlags {
  jobTokens?: number;
}

/**
 * `embedder embed --queue URL`: the distributed mode's producer and collector. Reads the whole input, queues jobs
 * for the chunks the queue's sink does not hold yet, and writes the output in input order, in the local mode's format,
 * once every chunk is embedded or failed for good. Rerun after an interruption, it embeds nothing twice: the sink
 * keeps every vector, the output is written again from it.
 */
export async function runQueuedEmbed(args: readonly string[], flags: QueuedEmbedFlags): Promise<void> {
  if (flags.resume) throw new EmbedderError('INVALID_CONFIG', '--resume is implied with --queue: a rerun resumes from the queue');
  const target = await queueTarget(flags);
  // The producer never embeds: one thread and no cache keep its model copy cheap (it counts tokens and names the model).
  const config = buildConfig({ ...flags, threads: flags.threads ?? 1, replicas: flags.replicas ?? 1, cacheSize: 0 });
  const logger = createStderrLogger(flags.verbose === true);
  const source = await openTextSource(args, flags);
  const records: InputRecord[] = [];
  for await (const record of source.records) records.push(record);
  if (records.length === 0) throw new EmbedderError('INVALID_INPUT', `input ${source.label} is empty: no text to embed`);

  const { runDistributed } = await import('@embedder-rag/distributed');
  const generator = await createGenerator(config, logger);
  const writer = await openOutput(flags.output, false);
  const toFile = flags.output !== undefined && flags.output !== '-';
  const progress = createProgress({
    enabled: shouldDrawProgress(flags.progress, process.stderr.isTTY === true, process.stdout.isTTY === true, toFile),
    total: records.length,
    forced: flags.progress === true,
  });
  try {
    const result = await runDistributed({
      ...target,
      engine: generator,
      texts: records.map((record) => record.text),
      ...(flags.jobTokens === undefined ? {} : { budget: { maxTokens: flags.jobTokens } }),
      logger,
      onProgress: ({ chunksTotal, chunksDone, chunksFailed }) => {
        // Unique chunks scaled to input lines, so the bar ends at the line count like the local mode's.
        const finished = Math.round(((chunksDone + chunksFailed) / Math.max(chunksTotal, 1)) * records.length);
        progress.update(finished);
      },
      write: (index, vector) => {
        const record = records[index]!;
        return writer.write(formatEmbeddingLine(index, vector, 'id' in record ? { value: record.id } : undefined));
      },
    });
    progress.stop();
    await writer.close();
    logger.info('done', { ...result, failed: result.failed.length });
    if (result.failed.length > 0) {
      const shown = result.failed.slice(0, 10).map((chunk) => `input ${chunk.indexes.join(',')}: ${chunk.error}`);
      throw new EmbedderError(
        'INFERENCE_FAILED',
        `${result.failed.length} chunk(s) failed for good and are not in ${flags.output ?? 'the output'}: ${shown.join('; ')}` +
          (result.failed.length > 10 ? '; …' : '') + ' (embedder queue status lists the failed jobs)',
        { details: { failed: result.failed } },
      );
    }
  } finally {
    progress.stop();
    await generator.dispose().catch((error: unknown) => logger.warn('dispose failed', { error: String(error) }));
  }
}
