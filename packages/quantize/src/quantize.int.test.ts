import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isEmbedderError } from '@embedder-rag/core';
import { cosine, modelDir } from '@embedder-rag/test-fixtures';
import { batchTokenizer } from '@embedder-rag/testkit';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, quantizeOnnx, QUANTIZATION_METADATA_KEY } from './index';
import { embedBatch, openSession } from './test-helpers';

const FIXTURES = ['test-fixtures/tiny-bert', 'test-fixtures/tiny-xlm-roberta', 'test-fixtures/tiny-mpnet', 'test-fixtures/tiny-sentence-t5'];

async function quantizeError(bytes: Uint8Array): Promise<{ code: string; reason: unknown }> {
  try {
    await quantizeOnnx(ort, bytes, { source: 'test input' });
  } catch (error) {
    if (isEmbedderError(error)) return { code: error.code, reason: error.details.reason };
    throw error;
  }
  throw new Error('quantizeOnnx accepted a bad model');
}

describe('ONNX protobuf', () => {
  it.each([...FIXTURES, 'all-MiniLM-L6-v2'])('%s: decoding then encoding gives back the same bytes', (name) => {
    const bytes = readFileSync(join(modelDir(name), 'onnx/model.onnx'));
    expect(Buffer.compare(Buffer.from(encodeModel(decodeModel(bytes))), bytes)).toBe(0);
  });
});

describe('quantizeOnnx on every family the backends serve', () => {
  it.each(FIXTURES)('%s: a valid row-wise int8 file whose vectors stay close to fp32', async (name) => {
    const dir = modelDir(name);
    const fp32Bytes = readFileSync(join(dir, 'onnx/model.onnx'));
    const texts = (readFileSync(join(dir, 'reference.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { text: string })).map((row) => row.text);
    const tokenize = await batchTokenizer(dir, 128);
    const { bytes, report } = await quantizeOnnx(ort, fp32Bytes, { calibration: texts.slice(0, 8).map((text) => tokenize([text])) });
    expect(report.quantized).toBeGreaterThan(0);
    expect(report.keptFp32).toBeGreaterThan(0); // attention scores stay fp32
    const model = decodeModel(bytes);
    const ops = new Set(model.graph!.node!.map((each) => each.op_type));
    expect(ops.has('QuantizeLinear')).toBe(true);
    expect(model.graph!.node!.filter((each) => each.op_type === 'MatMul')).toHaveLength(report.keptFp32);
    const metadata = JSON.parse(model.metadata_props!.find((entry) => entry.key === QUANTIZATION_METADATA_KEY)!.value!) as { method: string };
    expect(metadata.method).toBe('rowwise-int8');

    const [fp32, q8] = await Promise.all([openSession(fp32Bytes), openSession(bytes)]);
    const batch = tokenize(texts);
    const expected = await embedBatch(fp32, batch);
    const actual = await embedBatch(q8, batch);
    const cosines = actual.map((vector, index) => cosine(vector, expected[index]!));
    expect(Math.min(...cosines)).toBeGreaterThan(0.98);
    await Promise.all([fp32.release(), q8.release()]);
  });
});

describe('bad input gets typed errors', () => {
  it('an already-quantised (per-tensor int8) model: UNSUPPORTED not-fp32', async () => {
    const bytes = readFileSync(join(modelDir('all-MiniLM-L6-v2'), 'onnx/model_quantized.onnx'));
    expect(await quantizeError(bytes)).toEqual({ code: 'UNSUPPORTED', reason: 'not-fp32' });
  });

  it('fp16 weights: UNSUPPORTED not-fp32', async () => {
    const model = decodeModel(readFileSync(join(modelDir('test-fixtures/tiny-bert'), 'onnx/model.onnx')));
    for (const tensor of model.graph!.initializer!) if (tensor.data_type === 1 && tensor.dims!.length === 2) tensor.data_type = 10;
    expect(await quantizeError(encodeModel(model))).toEqual({ code: 'UNSUPPORTED', reason: 'not-fp32' });
  });

  it('a graph with no MatMul to quantise: UNSUPPORTED no-matmul', async () => {
    const model = decodeModel(readFileSync(join(modelDir('test-fixtures/tiny-bert'), 'onnx/model.onnx')));
    model.graph!.node = model.graph!.node!.filter((each) => each.op_type !== 'MatMul');
    expect(await quantizeError(encodeModel(model))).toEqual({ code: 'UNSUPPORTED', reason: 'no-matmul' });
  });

  it('a truncated file and bytes that are not ONNX: MODEL_INVALID corrupt', async () => {
    const bytes = readFileSync(join(modelDir('test-fixtures/tiny-bert'), 'onnx/model.onnx'));
    expect(await quantizeError(bytes.subarray(0, bytes.length >> 1))).toEqual({ code: 'MODEL_INVALID', reason: 'corrupt' });
    expect(await quantizeError(new TextEncoder().encode('{"not": "an onnx file"}\n'))).toEqual({ code: 'MODEL_INVALID', reason: 'corrupt' });
    expect(await quantizeError(new Uint8Array(0))).toEqual({ code: 'MODEL_INVALID', reason: 'corrupt' });
  });
});
