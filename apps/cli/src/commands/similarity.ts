import { EmbedderError } from '@embedder-rag/core';
import { buildConfig, promptOptions, type ModelFlags, type PromptFlags } from '../config';
import { createGenerator } from '../generator';
import { recordsFromArgs, type InputRecord } from '../input';
import { createStderrLogger } from '../logger';
import { keepHeapNearLiveSize } from '../memory';
import { openOutput } from '../output';
import { openTextSource, type TextSourceFlags } from './source';

/** Flags of `embedder similarity`. */
export interface SimilarityFlags extends ModelFlags, PromptFlags, TextSourceFlags {
  topK?: number;
  output?: string;
}

/** Candidates embedded before each top-k merge: bounds memory for any file size. */
const CHUNK = 2048;

interface Hit {
  index: number;
  score: number;
  record: InputRecord;
}

/**
 * `embedder similarity A B` prints the cosine of two texts; `embedder similarity QUERY --input FILE` prints the
 * file's texts most similar to the query, best first, one JSON line each.
 */
export async function runSimilarity(args: readonly string[], flags: SimilarityFlags): Promise<void> {
  const ranking = flags.input !== undefined;
  if (ranking && args.length !== 1) {
    throw new EmbedderError('INVALID_CONFIG', `with --input give exactly one query text, got ${args.length}`);
  }
  if (!ranking && args.length !== 2) {
    throw new EmbedderError('INVALID_CONFIG', `give two texts to compare (or one query and --input FILE), got ${args.length}`);
  }
  if (!ranking && flags.topK !== undefined) throw new EmbedderError('INVALID_CONFIG', '--top-k needs --input FILE');
  const config = buildConfig(flags);
  const logger = createStderrLogger(flags.verbose === true);
  // Rejects an empty text argument before the model loads.
  recordsFromArgs(args);
  const source = ranking ? await openTextSource([], flags) : undefined;

  const generator = await createGenerator(config, logger);
  // After the load, as in embed.
  if (ranking) keepHeapNearLiveSize();
  try {
    if (source === undefined) {
      const [a, b] = await generator.embed([args[0]!, args[1]!], promptOptions(flags));
      process.stdout.write(`${generator.calculateSimilarity(a!, b!)}\n`);
      return;
    }
    const k = flags.topK ?? 10;
    const [query] = await generator.embed([args[0]!], promptOptions(flags));
    let best: Hit[] = [];
    let chunk: { records: InputRecord[]; embeddings: Float32Array[]; start: number } = { records: [], embeddings: [], start: 0 };
    const merge = () => {
      const top = generator.findTopK(query!, chunk.embeddings, k);
      const hits = top.map(({ index, score }) => ({ index: chunk.start + index, score, record: chunk.records[index]! }));
      // Stable on ties: the earlier input line ranks first.
      best = [...best, ...hits].sort((x, y) => y.score - x.score || x.index - y.index).slice(0, k);
      chunk = { records: [], embeddings: [], start: chunk.start + chunk.records.length };
    };
    const pending = new Map<number, InputRecord>();
    let fed = 0;
    async function* texts(): AsyncGenerator<string> {
      for await (const record of source!.records) {
        pending.set(fed++, record);
        yield record.text;
      }
    }
    let seen = 0;
    for await (const { index, embedding } of generator.embedStream(texts(), promptOptions(flags))) {
      chunk.records.push(pending.get(index)!);
      pending.delete(index);
      chunk.embeddings.push(embedding);
      seen++;
      if (chunk.records.length >= CHUNK) merge();
    }
    if (chunk.records.length > 0) merge();
    if (seen === 0) throw new EmbedderError('INVALID_INPUT', `input ${source.label} is empty: no text to rank`);
    const writer = await openOutput(flags.output, false);
    for (const [rank, hit] of best.entries()) {
      const line: Record<string, unknown> = { rank: rank + 1, index: hit.index, score: hit.score, text: hit.record.text };
      if ('id' in hit.record) line.id = hit.record.id;
      await writer.write(`${JSON.stringify(line)}\n`);
    }
    await writer.close();
  } finally {
    await generator.dispose().catch((error: unknown) => logger.warn('dispose failed', { error: String(error) }));
  }
}
