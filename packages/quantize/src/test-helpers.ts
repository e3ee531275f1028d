import { readFileSync } from 'node:fs';
import { l2NormalizeRows, poolHiddenStates, type TokenizedBatch } from '@embedder-rag/core';
import { sharedFile } from '@embedder-rag/test-fixtures';
import * as ort from 'onnxruntime-node';

/** One onnxruntime session the way backend-onnx opens it (graph optimisation 'extended'). */
export function openSession(bytes: Uint8Array | string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes as Uint8Array, { graphOptimizationLevel: 'extended', intraOpNumThreads: 1, logSeverityLevel: 3 });
}

/** Runs a batch: mean-pooled, L2-normalised vectors, one per text. */
export async function embedBatch(session: ort.InferenceSession, batch: TokenizedBatch): Promise<Float32Array[]> {
  const shape = [batch.batchSize, batch.sequenceLength];
  const all: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', batch.inputIds, shape),
    attention_mask: new ort.Tensor('int64', batch.attentionMask, shape),
    token_type_ids: new ort.Tensor('int64', batch.tokenTypeIds, shape),
  };
  const result = await session.run(Object.fromEntries(session.inputNames.map((name) => [name, all[name]!])));
  const hidden = result[session.outputNames[0]!]!;
  const hiddenSize = hidden.dims[2]!;
  const pooled = poolHiddenStates(hidden.data as Float32Array, batch.attentionMask, { batchSize: batch.batchSize, sequenceLength: batch.sequenceLength, hiddenSize }, 'mean');
  l2NormalizeRows(pooled, hiddenSize);
  return Array.from({ length: batch.batchSize }, (_, row) => pooled.slice(row * hiddenSize, (row + 1) * hiddenSize));
}

/** ~300 calibration sentences: STS-B dev (never the test split or the reference texts). */
export function calibrationSentences(count = 300): string[] {
  const rows = readFileSync(sharedFile('data/stsb/sts-dev.csv'), 'utf8').trim().split('\n');
  return rows.flatMap((line) => line.split('\t').slice(5, 7)).slice(0, count);
}
