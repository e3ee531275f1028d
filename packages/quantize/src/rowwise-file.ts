import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { EmbedderError, type Logger, type TokenizedBatch } from '@embedder-rag/core';
import type * as Ort from 'onnxruntime-node';
import { CALIBRATION_SENTENCES } from './calibration-text';
import { quantizeOnnx } from './quantize-file';
import type { RowwiseReport } from './rowwise';

/** The row-wise q8 file's name in a model folder (beside onnx/model.onnx). */
export const ROWWISE_FILE = 'onnx/model_q8_rowwise.onnx';

/** Changes whenever the quantiser writes a different file, so that a cached file from an older one is not reused. */
const QUANTIZER_VERSION = 2;

/**
 * Where a row-wise file made on first use is kept: EMBEDDER_QUANTIZE_CACHE, else $XDG_CACHE_HOME/embedder-rag
 * (default ~/.cache/embedder-rag), one file per fp32 source (named by its path, size and modification time) and
 * quantiser version.
 */
export async function rowwiseCachePath(fp32File: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const root = env.EMBEDDER_QUANTIZE_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'embedder-rag', 'quantized');
  const source = resolve(fp32File);
  const { size, mtimeMs } = await stat(source);
  const key = createHash('sha256').update(`${source}\0${size}\0${Math.trunc(mtimeMs)}\0${QUANTIZER_VERSION}`).digest('hex').slice(0, 24);
  return join(resolve(root), `${key}-model_q8_rowwise.onnx`);
}

async function loadOnnxRuntime(): Promise<typeof Ort> {
  const ort = (await import('onnxruntime-node')) as typeof Ort & { default?: typeof Ort };
  return ort.InferenceSession ? ort : ort.default!;
}

export interface CreateRowwiseFileOptions {
  /** The model's tokeniser (texts -> one padded batch); calibrates the smoothing on the built-in sentences. */
  tokenize?: (texts: readonly string[]) => TokenizedBatch;
  /** Calibration sentences instead of the built-in ones. */
  sentences?: readonly string[];
  logger?: Logger;
}

/**
 * Quantises fp32File row-wise into outputFile (written to a temporary name, then renamed, so a reader never sees
 * half a file). Without a tokeniser the activations are not smoothed.
 */
export async function createRowwiseFile(ort: typeof Ort | undefined, fp32File: string, outputFile: string, options: CreateRowwiseFileOptions = {}): Promise<RowwiseReport> {
  const began = performance.now();
  const runtime = ort ?? (await loadOnnxRuntime());
  const sentences = options.sentences ?? CALIBRATION_SENTENCES;
  const tokenize = options.tokenize;
  let source: Uint8Array;
  try {
    source = await readFile(fp32File);
  } catch (error) {
    throw new EmbedderError('MODEL_NOT_FOUND', `the fp32 ONNX file ${fp32File} cannot be read: ${(error as Error).message}`, { cause: error, details: { file: fp32File } });
  }
  const { bytes, report } = await quantizeOnnx(runtime, source, {
    source: fp32File,
    ...(tokenize ? { calibration: sentences.map((text) => tokenize([text])), calibrationSource: `${sentences.length} ${options.sentences ? 'given' : 'built-in'} sentences` } : {}),
  });
  await mkdir(dirname(outputFile), { recursive: true });
  const temporary = `${outputFile}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, bytes);
  await rename(temporary, outputFile);
  options.logger?.info('row-wise q8 file written', { source: fp32File, file: outputFile, ms: Math.round(performance.now() - began), ...report });
  return report;
}
