import { EmbedderError } from '@embedder-rag/core';
import { buildConfig, promptOptions } from '../config';
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
  segmentChunks?: number;
}

/**
 * `embedder embed --queue URL`: the distributed mode's producer and collector. Streams the input in segments
 * (--segment-chunks texts at a time, so memory stays bounded however long the input is), queues jobs for the chunks
 * the queue's sink does not hold yet, and writes the output in input order, in the local mode's format, once every
 * chunk of a segment is embedded or failed for good. Rerun after an interruption, it embeds nothing twice: the sink
 * keeps every vector, the output is written again from it.
 */
export async function runQueuedEmbed(args: readonly string[], flags: QueuedEmbedFlags): Promise<void> {
  if (flags.resume) throw new EmbedderError('INVALID_CONFIG', '--resume is implied with --queue: a rerun resumes from the queue');
  const target = await queueTarget(flags);
  // The producer never embeds: one thread and no cache keep its model copy cheap (it counts tokens and names the model).
  const config = buildConfig({ ...flags, threads: flags.threads ?? 1, replicas: flags.replicas ?? 1, cacheSize: 0 });
  const logger = createStderrLogger(flags.verbose === true);
  const source = await openTextSource(args, flags);

  const { runDistributedStream } = await import('@embedder-rag/distributed');
  // A file's texts are counted while the model loads, for a bar in input lines.
  const counting = source.countTotal?.().catch(() => undefined);
  const generator = await createGenerator(config, logger);
  // --prompt / --prompt-name (else the model's default prompt) resolved here: an unknown name fails before any job is
  // queued, and every job carries the text (part of each chunk's key, so prompted and plain vectors never mix).
  let prompt: string;
  try {
    prompt = generator.resolvePrompt(promptOptions(flags));
  } catch (error) {
    await generator.dispose();
    throw error;
  }
  const writer = await openOutput(flags.output, false);
  const toFile = flags.output !== undefined && flags.output !== '-';
  const progress = await createProgress({
    enabled: shouldDrawProgress(flags.progress, process.stderr.isTTY === true, process.stdout.isTTY === true, toFile),
    ...(source.total === undefined ? {} : { total: source.total }),
    forced: flags.progress === true,
  });
  void counting?.then((total) => total !== undefined && progress.setTotal(total));
  try {
    const result = await runDistributedStream<InputRecord>({
      ...target,
      engine: generator,
      items: source.records,
      textOf: (record) => record.text,
      ...(flags.segmentChunks === undefined ? {} : { segmentSize: flags.segmentChunks }),
      prompt,
      ...(flags.jobTokens === undefined ? {} : { budget: { maxTokens: flags.jobTokens } }),
      logger,
      onProgress: ({ chunksTotal, chunksDone, chunksFailed, segmentStart, segmentLength }) => {
        // Unique chunks scaled to the segment's input lines, so the bar ends at the line count like the local mode's.
        progress.update(segmentStart + Math.round(((chunksDone + chunksFailed) / Math.max(chunksTotal, 1)) * segmentLength));
      },
      write: (index, vector, record) => writer.write(formatEmbeddingLine(index, vector, 'id' in record ? { value: record.id } : undefined)),
    });
    progress.stop();
    await writer.close();
    if (result.chunks === 0) throw new EmbedderError('INVALID_INPUT', `input ${source.label} is empty: no text to embed`);
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
