import { EmbedderError } from '@embedder-rag/core';
import { buildConfig, promptOptions, type ModelFlags, type PromptFlags } from '../config';
import { createGenerator } from '../generator';
import type { InputRecord } from '../input';
import { createStderrLogger } from '../logger';
import { keepHeapNearLiveSize } from '../memory';
import { formatEmbeddingLine, openOutput, prepareResume } from '../output';
import { createProgress, shouldDrawProgress } from '../progress';
import { openTextSource, type TextSourceFlags } from './source';
import { runQueuedEmbed, type QueuedEmbedFlags } from './embed-queue';

/** Flags of `embedder embed`. */
export interface EmbedFlags extends ModelFlags, PromptFlags, TextSourceFlags {
  output?: string;
  resume?: boolean;
  /** `--progress` / `--no-progress`; undefined: a bar only on a terminal's stderr (see shouldDrawProgress). */
  progress?: boolean;
}

/** Exit status after SIGINT (Ctrl-C) or SIGTERM: 128 + the signal's number, as shells report it. */
const exitStatusOf = (signal: NodeJS.Signals): number => (signal === 'SIGTERM' ? 143 : 130);

/**
 * Stops the embed loop on SIGINT/SIGTERM so the output ends at a whole line, then says how to continue. A second
 * signal more than a second later ends the process at once (Ctrl-C under `pnpm embedder` arrives twice together:
 * from the terminal and passed on by pnpm).
 */
function watchInterrupt(): { interrupted: () => NodeJS.Signals | undefined; dispose: () => void } {
  let signal: NodeJS.Signals | undefined;
  let at = 0;
  const onSignal = (received: NodeJS.Signals) => {
    if (signal !== undefined) {
      if (performance.now() - at > 1000) process.exit(exitStatusOf(received));
      return;
    }
    signal = received;
    at = performance.now();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    interrupted: () => signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * `embedder embed`: streams texts through the generator and writes one JSON line per text, in input order, as each
 * window of batches finishes. Memory stays bounded by the generator's window, whatever the input size.
 */
export async function runEmbed(args: readonly string[], flags: EmbedFlags & QueuedEmbedFlags): Promise<void> {
  if (flags.queue !== undefined) return runQueuedEmbed(args, flags);
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

  // A file's texts are counted while the model loads, for a bar in embeddings rather than bytes.
  const counting = source.countTotal?.().catch(() => undefined);
  const generator = await createGenerator(config, logger);
  // After the load: loading (tokenizer.json, the session) allocates a lot for a short time, and a young generation
  // held at its starting size collected it in more scavenges (GC 24 vs 16 ms of a one-line run's CPU profile).
  keepHeapNearLiveSize();
  const drawProgress = shouldDrawProgress(flags.progress, process.stderr.isTTY === true, process.stdout.isTTY === true, toFile);
  const progress = await createProgress({
    enabled: drawProgress,
    ...(source.total === undefined ? {} : { total: source.total }),
    initialDone: resumed,
    forced: flags.progress === true,
  });
  void counting?.then((total) => total !== undefined && progress.setTotal(total));
  const interrupt = watchInterrupt();
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
    for await (const { index, embedding } of generator.embedStream(texts(), promptOptions(flags))) {
      const record = pending.get(index);
      pending.delete(index);
      const id = record !== undefined && 'id' in record ? { value: record.id } : undefined;
      await writer.write(formatEmbeddingLine(resumed + index, embedding, id));
      done++;
      progress.update(done);
      if (interrupt.interrupted() !== undefined) break;
    }
    progress.stop();
    await writer.close();
    const signal = interrupt.interrupted();
    if (signal !== undefined) {
      const total = await counting;
      const of = total === undefined ? '' : ` of ${total}`;
      const hint = toFile
        ? `run the same command with --resume to continue after line ${done}`
        : 'write to a file with --output FILE, then --resume continues an interrupted run';
      process.stderr.write(`embedder: ${signal}: stopped after ${done}${of} embeddings; ${hint}\n`);
      process.exitCode = exitStatusOf(signal);
      return;
    }
    logger.info('done', { embeddings: done - resumed, ...generator.getStats() });
  } finally {
    interrupt.dispose();
    progress.stop();
    await generator.dispose().catch((error: unknown) => logger.warn('dispose failed', { error: String(error) }));
  }
}
