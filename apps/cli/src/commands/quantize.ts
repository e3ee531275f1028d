import { join } from 'node:path';
import { createStderrLogger } from '../logger';

export interface QuantizeFlags {
  model: string;
  output?: string;
  verbose?: boolean;
}

/**
 * `embedder quantize --model DIR [--output FILE]`: the row-wise q8 file of a model folder, calibrated with the
 * model's tokeniser on @embedder-rag/quantize's built-in sentences. Prints {"file", ...report} as one JSON line.
 */
export async function runQuantize(flags: QuantizeFlags): Promise<void> {
  // Loaded on use, as `serve`'s server: protobufjs and the tokenizer are not every command's start-up.
  const [{ createRowwiseFile, ROWWISE_FILE }, { loadTokenizer }] = await Promise.all([import('@embedder-rag/quantize'), import('@embedder-rag/tokenizer')]);
  const logger = createStderrLogger(flags.verbose === true);
  const tokenizer = await loadTokenizer(flags.model, { maxSeqLength: 256 });
  const output = flags.output ?? join(flags.model, ROWWISE_FILE);
  const report = await createRowwiseFile(undefined, join(flags.model, 'onnx', 'model.onnx'), output, {
    tokenize: (texts) => tokenizer.encodeBatch(texts).batch,
    logger,
  });
  process.stdout.write(`${JSON.stringify({ file: output, ...report })}\n`);
}
