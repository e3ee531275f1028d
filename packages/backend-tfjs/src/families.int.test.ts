import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isEmbedderError, l2NormalizeRows, type Backend, type BackendSession, type ModelSpec } from '@embedder-rag/core';
import { maxAbsDiff, modelDir, readJsonl } from '@embedder-rag/test-fixtures';
import { batchFromIds, loadTestModel, row, writeTorchCheckpoint, type CheckpointTensor } from '@embedder-rag/testkit';
import { openWeights } from '@embedder-rag/weights';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TfjsBackend } from './backend';

/** A row of the tiny-xlm-roberta / tiny-mpnet / tiny-sentence-t5 reference.jsonl (sentence-transformers output). */
interface FamilyReferenceRow {
  text: string;
  prompt_name?: string | null;
  input_ids: number[];
  tokens: number;
  /** After pooling, any Dense and Normalize. */
  embedding: number[];
}

const TOLERANCE = 1e-5;

/**
 * The sentence-transformers Dense of tiny-sentence-t5 (16→16, no bias, identity), computed here in float64 from
 * 2_Dense/model.safetensors: an independent check of the encoder's pooled output against the reference's
 * final vectors.
 */
async function denseOf(dir: string): Promise<(pooled: Float32Array, rows: number) => Float32Array> {
  const config = JSON.parse(readFileSync(join(dir, '2_Dense/config.json'), 'utf8')) as { in_features: number; out_features: number; bias: boolean; activation_function: string };
  expect(config.bias).toBe(false);
  expect(config.activation_function).toMatch(/Identity$/);
  const weight = (await openWeights(join(dir, '2_Dense/model.safetensors'))).float32('linear.weight', [config.out_features, config.in_features]);
  return (pooled, rows) => {
    const out = new Float32Array(rows * config.out_features);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < config.out_features; o++) {
        let sum = 0;
        for (let i = 0; i < config.in_features; i++) sum += weight[o * config.in_features + i]! * pooled[r * config.in_features + i]!;
        out[r * config.out_features + o] = sum;
      }
    }
    return out;
  };
}

interface FamilyCase {
  fixture: string;
  family: string;
  /** The model's own padding id (what its tokenizer pads with). */
  padId: number;
  /** Runs the pooled output through what follows pooling before Normalize (T5's Dense). */
  afterPooling?: (dir: string) => Promise<(pooled: Float32Array, rows: number) => Float32Array>;
  /** How the family's pytorch_model.bin checkpoints name a tensor of the safetensors file (undefined: leave it out). */
  binName?: (name: string) => string | undefined;
}

/**
 * A copy of a fixture (symlinks) whose weights are a pytorch_model.bin written from its model.safetensors, under
 * the names `rename` gives.
 */
async function binCopy(source: string, rename: (name: string) => string | undefined): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'embedder-tfjs-bin-'));
  for (const name of readdirSync(source)) if (name !== 'model.safetensors' && name !== 'onnx') symlinkSync(join(source, name), join(dir, name));
  const weights = await openWeights(join(source, 'model.safetensors'));
  const tensors = new Map<string, CheckpointTensor>();
  for (const name of weights.names()) {
    const target = rename(name);
    const shape = weights.info(name)!.shape;
    if (target !== undefined) tensors.set(target, { shape, values: weights.float32(name, shape) });
  }
  writeTorchCheckpoint(join(dir, 'pytorch_model.bin'), tensors);
  return dir;
}

const CASES: FamilyCase[] = [
  // XLMRobertaForMaskedLM-style names.
  { fixture: 'tiny-xlm-roberta', family: 'xlm-roberta', padId: 1, binName: (name) => `roberta.${name}` },
  { fixture: 'tiny-mpnet', family: 'mpnet', padId: 1, binName: (name) => name },
  // T5EncoderModel checkpoints may hold the tied embedding as encoder.embed_tokens only.
  { fixture: 'tiny-sentence-t5', family: 't5', padId: 0, afterPooling: denseOf, binName: (name) => (name === 'shared.weight' ? 'encoder.embed_tokens.weight' : name) },
];

describe('tfjs encoder families against their fixtures', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = new TfjsBackend();
    await backend.init();
  });

  for (const testCase of CASES) {
    describe(`${testCase.fixture} (${testCase.family})`, () => {
      const dir = modelDir(`test-fixtures/${testCase.fixture}`);
      let spec: ModelSpec;
      let session: BackendSession;
      let reference: FamilyReferenceRow[];
      let finish: (pooled: Float32Array, rows: number) => Float32Array;
      const worst: Record<string, number> = {};

      beforeAll(async () => {
        spec = await loadTestModel(dir);
        reference = readJsonl<FamilyReferenceRow>(join(dir, 'reference.jsonl'));
        // The session pools; Dense modules after pooling are the shared pipeline's, applied here by the test.
        session = await backend.createSession({ ...spec, dense: [], dimension: spec.hiddenSize }, { dtype: 'fp32', device: 'cpu' });
        const after = testCase.afterPooling ? await testCase.afterPooling(dir) : undefined;
        finish = (pooled, rows) => l2NormalizeRows(after ? after(pooled, rows) : pooled, after ? pooled.length / rows : session.dimension);
      });
      afterAll(async () => {
        console.log(`tfjs ${testCase.fixture}: worst max abs difference ${JSON.stringify(worst)}`);
        await session.dispose();
      });

      it('loads its safetensors with the family its model_type names', () => {
        expect(session.info.modelFile).toMatch(/model\.safetensors$/);
        expect(session.dimension).toBe(spec.hiddenSize);
        expect(session.info.inputNames).toEqual(['input_ids', 'attention_mask']);
      });

      it(`gives every reference.jsonl row within ${TOLERANCE} (max abs difference), each text alone`, async () => {
        let largest = 0;
        for (const [index, r] of reference.entries()) {
          expect(r.input_ids.length, r.text).toBe(r.tokens);
          const vector = finish(await session.run(batchFromIds([r.input_ids], testCase.padId)), 1);
          const difference = maxAbsDiff(vector, r.embedding);
          expect(difference, `row ${index}: ${JSON.stringify(r.text.slice(0, 40))}`).toBeLessThanOrEqual(TOLERANCE);
          largest = Math.max(largest, difference);
        }
        worst.alone = largest;
      });

      it(`gives every row within ${TOLERANCE} in one mixed-length batch padded with the model's pad id`, async () => {
        const lengths = new Set(reference.map((r) => r.input_ids.length));
        expect(lengths.size).toBeGreaterThan(3);
        const out = await session.run(batchFromIds(reference.map((r) => r.input_ids), testCase.padId));
        const vectors = finish(out, reference.length);
        const dimension = vectors.length / reference.length;
        const differences = reference.map((r, i) => maxAbsDiff(row(vectors, i, dimension), r.embedding));
        worst.batch = Math.max(...differences);
        expect(worst.batch).toBeLessThanOrEqual(TOLERANCE);
      });

      it('loads the same weights from a pytorch_model.bin (its checkpoint names) and gives the same vectors', async () => {
        const binDir = await binCopy(dir, testCase.binName!);
        try {
          const fromBin = await backend.createSession({ ...spec, dir: binDir, dense: [], dimension: spec.hiddenSize }, { dtype: 'fp32', device: 'cpu' });
          try {
            expect(fromBin.info.modelFile).toMatch(/pytorch_model\.bin$/);
            const out = finish(await fromBin.run(batchFromIds(reference.map((r) => r.input_ids), testCase.padId)), reference.length);
            const dimension = out.length / reference.length;
            worst.bin = Math.max(...reference.map((r, i) => maxAbsDiff(row(out, i, dimension), r.embedding)));
            expect(worst.bin).toBeLessThanOrEqual(TOLERANCE);
          } finally {
            await fromBin.dispose();
          }
        } finally {
          rmSync(binDir, { recursive: true, force: true });
        }
      });

      it('gives the same vectors whatever id pads the batch (padding is masked, positions come from real tokens)', async () => {
        const rows = reference.slice(0, 6).map((r) => r.input_ids);
        const own = await session.run(batchFromIds(rows, testCase.padId));
        const other = await session.run(batchFromIds(rows, testCase.padId === 0 ? 1 : 0));
        expect(maxAbsDiff(own, other)).toBeLessThanOrEqual(1e-6);
      });
    });
  }

  it('refuses more tokens than the positions past the padding index allow (XLM-R: 514 − 1 − 1 = 512)', async () => {
    const spec = await loadTestModel(modelDir('test-fixtures/tiny-xlm-roberta'));
    const session = await backend.createSession(spec, { dtype: 'fp32', device: 'cpu' });
    try {
      const ids = (length: number) => [0, ...Array.from({ length: length - 2 }, () => 100), 2];
      expect((await session.run(batchFromIds([ids(512)], 1))).length).toBe(session.dimension);
      const error = await session.run(batchFromIds([ids(513)], 1)).catch((e: unknown) => e);
      expect(isEmbedderError(error, 'INPUT_TOO_LONG'), String(error)).toBe(true);
    } finally {
      await session.dispose();
    }
  });

  it('refuses a model_type it has no family for with UNSUPPORTED naming it and the families it has', async () => {
    // DistilBERT: a model_type the model layer reads but the tfjs backend has no encoder for.
    const spec = await loadTestModel(modelDir('test-fixtures/tiny-bert'));
    const distilbert = { ...spec, architecture: 'distilbert', config: { ...spec.config, model_type: 'distilbert' } };
    const error = await backend.createSession(distilbert, { dtype: 'fp32', device: 'cpu' }).catch((e: unknown) => e);
    expect(isEmbedderError(error, 'UNSUPPORTED'), String(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain("model_type 'distilbert'");
    for (const modelType of ['bert', 'xlm-roberta', 'mpnet', 't5']) expect(message).toContain(modelType);
    expect((error as { details: Record<string, unknown> }).details).toMatchObject({ modelType: 'distilbert', supported: expect.arrayContaining(['bert', 'xlm-roberta', 'mpnet', 't5']) });
  });
});
