import { join } from 'node:path';
import {
  BackendRegistry,
  isEmbedderError,
  l2NormalizeRows,
  withPostPooling,
  type Backend,
  type BackendRegistration,
  type BackendSession,
  type ModelSpec,
  type SessionOptions,
} from '@embedder-rag/core';
import { loadModelSpec } from '@embedder-rag/models';
import {
  cosine,
  FAMILY_FIXTURES,
  loadFamilyReference,
  loadMiniLmReference,
  maxAbsDiff,
  modelDir,
  readJsonl,
  TINY_BERT_POOLINGS,
  type FamilyReferenceRow,
  type TinyBertPooling,
  type TinyBertReferenceRow,
} from '@embedder-rag/test-fixtures';
import { loadTokenizer, type TextTokenizer } from '@embedder-rag/tokenizer';
import { loadDenseLayers } from '@embedder-rag/weights';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchFromIds, row } from './batches';
import { embedTexts } from './embed-texts';

/** The all-MiniLM-L6-v2 part of the suite: 230 reference texts, tokenised by @embedder-rag/tokenizer. */
export interface MiniLmConformance {
  /** A complete all-MiniLM-L6-v2 folder holding the weights this backend reads. */
  modelDir: string | (() => string);
  /** Lowest acceptable cosine with ../shared/reference/all-MiniLM-L6-v2.jsonl for every text. */
  minCosine: number;
  sessionOptions?: Partial<SessionOptions>;
  /** Receives the lowest cosine seen (for reports). */
  onMinimum?: (minimum: number, worstText: string) => void;
}

/** Options of {@link describeBackendConformance}. */
export interface BackendConformanceOptions {
  /** The backend's registered name (checked against the registration). */
  name: string;
  registration: BackendRegistration;
  /**
   * A model folder in the tiny-bert fixture's shape: `reference.jsonl` holds each text's input_ids and its
   * L2-normalised `mean`, `cls` and `max` vectors.
   */
  modelDir: string;
  sessionOptions?: Partial<SessionOptions>;
  /** Largest absolute difference from reference.jsonl after L2 normalisation. @default 1e-5 */
  tolerance?: number;
  miniLm?: MiniLmConformance;
  /**
   * config.json model_types of the family fixtures ({@link FAMILY_FIXTURES}) this backend does not run: for those the
   * suite checks createSession throws UNSUPPORTED naming the model_type; every other family must match its
   * reference. @default [] (every family runs)
   */
  unsupportedFamilies?: readonly string[];
  /** Receives each family fixture's worst max abs difference, one text per batch and all in one batch (for reports). */
  onFamilyResult?: (fixture: string, worstAlone: number, worstBatched: number) => void;
}

const POOLING_MODES = TINY_BERT_POOLINGS;

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    (value) => new Error(`expected ${code}, got a result: ${String(value)}`),
    (caught: unknown) => caught,
  );
  expect(isEmbedderError(error), `expected an EmbedderError ${code}, got: ${String(error)}`).toBe(true);
  expect((error as { code: string }).code, String(error)).toBe(code);
}

/**
 * The backend conformance suite: the same checks against every backend, on real model files. Call it at the top
 * level of a backend's `*.int.test.ts`:
 * dimension; reference vectors (mean, cls and max pooling) within `tolerance`; determinism; padding invariance (a
 * text alone vs padded in a batch beside a long one); INVALID_INPUT for an empty batch; INPUT_TOO_LONG beyond
 * max_position_embeddings; DISPOSED after dispose; and optionally the all-MiniLM-L6-v2 reference by cosine.
 */
export function describeBackendConformance(options: BackendConformanceOptions): void {
  const tolerance = options.tolerance ?? 1e-5;
  const sessionOptions: SessionOptions = { dtype: 'fp32', device: 'cpu', ...options.sessionOptions };

  describe(`backend conformance: ${options.name}`, () => {
    let backend: Backend;
    let spec: ModelSpec;
    let reference: TinyBertReferenceRow[];
    const sessions = new Map<TinyBertPooling, BackendSession>();

    beforeAll(async () => {
      const registry = new BackendRegistry().register(options.registration);
      backend = await registry.resolve(options.name);
      spec = await loadModelSpec(options.modelDir);
      reference = readJsonl<TinyBertReferenceRow>(join(options.modelDir, 'reference.jsonl'));
      for (const pooling of POOLING_MODES) sessions.set(pooling, await backend.createSession({ ...spec, pooling }, sessionOptions));
    });

    afterAll(async () => {
      for (const session of sessions.values()) await session.dispose();
    });

    const session = (pooling: TinyBertPooling = 'mean'): BackendSession => sessions.get(pooling)!;

    it('is registered under its name and initialises through a registry', () => {
      expect(options.registration.name).toBe(options.name);
      expect(backend.name).toBe(options.name);
      expect(session().info.backend).toBe(options.name);
      expect(session().info.runtime.length).toBeGreaterThan(0);
    });

    it("has the model's dimension and returns batch × dimension finite values", async () => {
      expect(session().dimension).toBe(spec.dimension);
      const out = await session().run(batchFromIds(reference.slice(0, 3).map((r) => r.input_ids)));
      expect(out.length).toBe(3 * spec.dimension);
      expect(out.every(Number.isFinite)).toBe(true);
    });

    for (const pooling of POOLING_MODES) {
      it(`gives reference.jsonl's ${pooling}-pooled vectors within ${tolerance} (max abs difference), in one padded batch`, async () => {
        const out = await session(pooling).run(batchFromIds(reference.map((r) => r.input_ids)));
        l2NormalizeRows(out, spec.dimension);
        const worst = Math.max(...reference.map((r, i) => maxAbsDiff(row(out, i, spec.dimension), r[pooling])));
        expect(worst).toBeLessThanOrEqual(tolerance);
      });
    }

    it('is deterministic: the same batch twice gives identical bits', async () => {
      const batch = batchFromIds(reference.map((r) => r.input_ids));
      const first = await session().run(batch);
      const second = await session().run(batch);
      expect(Buffer.from(second.buffer).equals(Buffer.from(first.buffer))).toBe(true);
    });

    it('is padding-invariant: a short text alone equals the same text padded beside a long one', async () => {
      const byLength = [...reference].sort((a, b) => a.input_ids.length - b.input_ids.length);
      const short = byLength[0]!.input_ids;
      const long = byLength[byLength.length - 1]!.input_ids;
      expect(long.length).toBeGreaterThan(short.length + 4);
      for (const pooling of POOLING_MODES) {
        const alone = await session(pooling).run(batchFromIds([short]));
        const padded = await session(pooling).run(batchFromIds([long, short]));
        expect(padded.length).toBe(2 * spec.dimension);
        expect(maxAbsDiff(l2NormalizeRows(alone, spec.dimension), l2NormalizeRows(row(padded, 1, spec.dimension).slice(), spec.dimension))).toBeLessThanOrEqual(tolerance);
      }
    });

    it('refuses an empty batch with INVALID_INPUT', async () => {
      await expectCode(session().run(batchFromIds([])), 'INVALID_INPUT');
      const noTokens = { ...batchFromIds([[101]]), inputIds: new BigInt64Array(0), attentionMask: new BigInt64Array(0), tokenTypeIds: new BigInt64Array(0), sequenceLength: 0 };
      await expectCode(session().run(noTokens), 'INVALID_INPUT');
    });

    it('refuses a batch longer than max_position_embeddings with INPUT_TOO_LONG', async () => {
      const positions = Number(spec.config.max_position_embeddings ?? 512);
      const ids = [101, ...Array.from({ length: positions - 1 }, () => 1000), 102];
      await expectCode(session().run(batchFromIds([ids])), 'INPUT_TOO_LONG');
    });

    it('throws DISPOSED after dispose (and disposing twice is harmless)', async () => {
      const own = await backend.createSession(spec, sessionOptions);
      await own.run(batchFromIds([reference[0]!.input_ids]));
      await own.dispose();
      await own.dispose();
      await expectCode(own.run(batchFromIds([reference[0]!.input_ids])), 'DISPOSED');
    });

    for (const fixture of FAMILY_FIXTURES) describeFamily(fixture, () => backend, sessionOptions, tolerance, options);

    const miniLm = options.miniLm;
    if (miniLm) {
      it(`matches the all-MiniLM-L6-v2 reference: cosine >= ${miniLm.minCosine} for all 230 texts`, { timeout: 600_000 }, async () => {
        const dir = typeof miniLm.modelDir === 'function' ? miniLm.modelDir() : miniLm.modelDir;
        const model = await loadModelSpec(dir);
        const own = await backend.createSession(model, { ...sessionOptions, ...miniLm.sessionOptions });
        try {
          const rows = loadMiniLmReference();
          const { vectors } = await embedTexts(own, model, rows.map((r) => r.text));
          const cosines = rows.map((r, i) => cosine(vectors[i]!, r.embedding));
          const minimum = Math.min(...cosines);
          miniLm.onMinimum?.(minimum, rows[cosines.indexOf(minimum)]!.text);
          expect(minimum).toBeGreaterThanOrEqual(miniLm.minCosine);
        } finally {
          await own.dispose();
        }
      });
    }
  });
}

/** A backend session for a model with its whole post-pooling pipeline (Dense layers), as the facade builds it. */
export async function createPipelineSession(backend: Backend, spec: ModelSpec, options: SessionOptions): Promise<BackendSession> {
  const session = await backend.createSession(spec, options);
  try {
    return withPostPooling(session, await loadDenseLayers(spec.dense));
  } catch (error) {
    await session.dispose();
    throw error;
  }
}

/** The prompt text a reference row was made with (config_sentence_transformers.json's prompts). */
function promptOf(spec: ModelSpec, row: FamilyReferenceRow): string {
  if (row.prompt_name === undefined || row.prompt_name === null) return '';
  const prompt = spec.prompts[row.prompt_name];
  if (prompt === undefined) throw new Error(`${spec.dir}: reference row uses unknown prompt '${row.prompt_name}'`);
  return prompt;
}

/** Vectors of rows' ids run as one batch through the pipeline, normalised when the model's modules.json says so. */
async function pipelineVectors(session: BackendSession, spec: ModelSpec, tokenizer: TextTokenizer, rows: readonly FamilyReferenceRow[]): Promise<Float32Array> {
  const batch = tokenizer.collate(rows.map((r) => ({ ids: Int32Array.from(r.input_ids), fullLength: r.input_ids.length, truncated: false })));
  const out = await session.run(batch);
  return spec.normalize ? l2NormalizeRows(out, session.dimension) : out;
}

function describeFamily(fixture: string, backend: () => Backend, sessionOptions: SessionOptions, tolerance: number, options: BackendConformanceOptions): void {
  const unsupported = options.unsupportedFamilies ?? [];
  describe(`family fixture ${fixture}`, () => {
    let spec: ModelSpec;
    let rows: FamilyReferenceRow[];
    let tokenizer: TextTokenizer;
    beforeAll(async () => {
      spec = await loadModelSpec(modelDir(`test-fixtures/${fixture}`));
      rows = loadFamilyReference(fixture);
      tokenizer = await loadTokenizer(spec.dir, { maxSeqLength: spec.maxSeqLength });
    });

    it('tokenises every reference text (prompt included) to the reference ids and token count', () => {
      for (const r of rows) {
        const ids = Array.from(tokenizer.encode(promptOf(spec, r) + r.text).ids);
        expect(ids, r.text).toEqual(r.input_ids);
        expect(ids.length).toBe(r.tokens);
      }
    });

    it(`runs the ${fixture} family, or refuses it with UNSUPPORTED naming its model_type`, { timeout: 120_000 }, async () => {
      if (unsupported.includes(spec.architecture)) {
        const error = await backend().createSession(spec, sessionOptions).then(
          async (session) => {
            await session.dispose();
            return new Error(`expected UNSUPPORTED for model_type ${spec.architecture}, but a session was created`);
          },
          (caught: unknown) => caught,
        );
        expect(isEmbedderError(error, 'UNSUPPORTED'), String(error)).toBe(true);
        expect((error as Error).message).toContain(spec.architecture);
        return;
      }
      const session = await createPipelineSession(backend(), spec, sessionOptions);
      try {
        expect(session.dimension).toBe(spec.dimension);
        // Alone: one row per batch.
        let worstAlone = 0;
        for (const r of rows) worstAlone = Math.max(worstAlone, maxAbsDiff(await pipelineVectors(session, spec, tokenizer, [r]), r.embedding));
        // Together: every row in one mixed-length batch, padded with the tokenizer's pad id.
        const together = await pipelineVectors(session, spec, tokenizer, rows);
        const worstBatched = Math.max(...rows.map((r, i) => maxAbsDiff(together.subarray(i * spec.dimension, (i + 1) * spec.dimension), r.embedding)));
        options.onFamilyResult?.(fixture, worstAlone, worstBatched);
        expect(worstAlone, `${fixture}: worst max abs difference, one text per batch`).toBeLessThanOrEqual(tolerance);
        expect(worstBatched, `${fixture}: worst max abs difference, all ${rows.length} texts in one batch`).toBeLessThanOrEqual(tolerance);
      } finally {
        await session.dispose();
      }
    });
  });
}
