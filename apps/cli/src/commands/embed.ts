import { EmbedderError } from '@embedder-rag/core';
import { buildConfig, type ModelFlags } from '../config';
import { createGenerator } from '../generator';
import type { InputRecord } from '../input';
import { createStderrLogger } from '../logger';
import { keepHeapNearLiveSize } from '../memory';
import { formatEmbeddingLine, openOutput, prepareResume } from '../output';
import { createProgress } from '../progress';
import { openTextSource, type TextSourceFlags } from './source';

/** Flags of `embedder embed`. */
export interface EmbedFlags extends ModelFlags, TextSourceFlags {
  output?: string;
  resume?: boolean;
}

/**
 * `embedder embed`: streams texts through the generator and writes one JSON line per text, in input order, as each
 * window of batches finishes. Memory stays bounded by the generator's window, whatever the input size.
 */
export async function runEmbed(args: readonly string[], flags: EmbedFlags): Promise<void> {
  const toFile = flags.output !== undefined && flags.output !== '-';
  if (flags.resume && !toFile) throw new EmbedderError('INVALID_CONFIG', '--resume needs --output FILE');
  // Config errors (bad flag or EMBEDDER_* value) surface before any file is touched.
  const config = buildConfig(flags);
  const logger = createStderrLogger(flags.verbose === true);

  const resumed = flags.resume ? await prepareResume(flags.output!) : 0;
  const source = await openTextSource(args, flags, resumed);
  // Read the first record before loading the model, so an empty or malformed input fails fast.
  const iterator = source.records[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) {
    const { records } = source.skipped();
    if (resumed === 0) throw new EmbedderError('INVALID_INPUT', `input ${source.label} is empty: no text to embed`);
    if (records < resumed) {
      throw new EmbedderError(
        'INVALID_INPUT',
        `--resume: ${flags.output} already has ${resumed} lines but input ${source.label} has only ${records} texts`,
        { details: { outputLines: resumed, inputRecords: records } },
      );
    }
    logger.info('nothing to resume: every input text is already in the output', { lines: resumed });
    return;
  }
  if (resumed > 0) logger.info('resuming', { skipped: resumed, output: flags.output });
  keepHeapNearLiveSize();

  const generator = await createGenerator(config, logger);
  const skipped = source.skipped();
  const progress = createProgress({
    enabled: process.stderr.isTTY === true,
    total: source.total,
    initialDone: resumed,
    initialPosition: source.totalIsBytes ? skipped.bytes : resumed,
  });
  try {
    // Opened only now: a model that fails to load leaves an existing output file untouched.
    const writer = await openOutput(flags.output, resumed > 0);
    const pending = new Map<number, InputRecord>();
    let fed = 0;
    async function* texts(): AsyncGenerator<string> {
      let next: IteratorResult<InputRecord> = first;
      while (!next.done) {
        pending.set(fed++, next.value);
        yield next.value.text;
        next = await iterator.next();
      }
    }
    let done = resumed;
    let position = source.totalIsBytes ? skipped.bytes : resumed;
    for await (const { index, embedding } of generator.embedStream(texts())) {
      const record = pending.get(index);
      pending.delete(index);
      const id = record !== undefined && 'id' in record ? { value: record.id } : undefined;
      await writer.write(formatEmbeddingLine(resumed + index, embedding, id));
      done++;
      position += source.totalIsBytes ? (record?.bytes ?? 0) : 1;
      progress.update(done, position);
    }
    if (source.total !== undefined) progress.update(done, source.total);
    progress.stop();
    await writer.close();
    logger.info('done', { embeddings: done - resumed, ...generator.getStats() });
  } finally {
    progress.stop();
    await generator.dispose().catch((error: unknown) => logger.warn('dispose failed', { error: String(error) }));
  }
}
