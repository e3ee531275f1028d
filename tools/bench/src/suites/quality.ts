import type { QualityJob, QualityResult } from '../child';
import { PUBLISHED_STSB_SPEARMAN } from '@embedder-rag/eval';
import { runChild } from '../measure';
import { isQuick } from '../options';
import type { BenchRow, BenchSuite, SuiteResult } from '../suite';

/**
 * What speed costs in accuracy: STS-B test Spearman (cosine), cosine to the sentence-transformers reference vectors
 * (230 texts, ../shared/reference), and how far a text's vector moves between being embedded alone and in a batch.
 */
async function run(): Promise<SuiteResult> {
  const quick = isQuick();
  const stsbLimit = quick ? 300 : undefined;
  const published = PUBLISHED_STSB_SPEARMAN['all-MiniLM-L6-v2'] ?? Number.NaN;
  const rows: BenchRow[] = [];
  const results = new Map<string, QualityResult>();
  for (const dtype of ['fp32', 'q8'] as const) {
    for (const system of ['embedder', 'transformers.js'] as const) {
      const job: QualityJob = { kind: 'quality', system, dtype, ...(stsbLimit === undefined ? {} : { stsbLimit }) };
      const result = await runChild<QualityResult>(job);
      results.set(`${system} ${dtype}`, result);
      rows.push({
        system: `${system} ${dtype}`,
        metrics: {
          stsb_spearman: result.spearman.toFixed(5),
          vs_published: (result.spearman - published >= 0 ? '+' : '') + (result.spearman - published).toFixed(5),
          ref_min_cos: result.refMinCos.toFixed(6),
          ref_mean_cos: result.refMeanCos.toFixed(6),
          alone_vs_batch_min_cos: result.batchShiftMinCos.toFixed(6),
        },
      });
    }
  }
  const notes: string[] = [];
  const fp32 = results.get('embedder fp32');
  const q8 = results.get('embedder q8');
  if (!quick && fp32) {
    const ok = Math.abs(fp32.spearman - published) <= 0.002;
    notes.push(`${ok ? 'PASS' : 'FAIL'} fp32 STS-B ${fp32.spearman.toFixed(5)} within 0.002 of the published ${published.toFixed(4)}`);
  }
  if (!quick && q8) notes.push(`${q8.spearman >= 0.815 ? 'PASS' : 'FAIL'} q8 STS-B ${q8.spearman.toFixed(5)} (goal >= 0.815)`);
  if (fp32) notes.push(`${fp32.refMinCos >= 0.99999 ? 'PASS' : 'FAIL'} fp32 cosine to the reference >= 0.99999 (min ${fp32.refMinCos.toFixed(7)})`);
  if (quick) notes.push(`quick run: STS-B on the first ${stsbLimit} pairs only, not comparable with the published figure`);
  notes.push('transformers.js truncates at 512 word pieces (the model was trained at 256), which moves its vectors of long texts');
  return {
    suite: 'quality',
    description: `STS-B test (${stsbLimit ?? 1379} pairs) Spearman of cosine, cosine to sentence-transformers reference vectors, and alone-vs-in-batch drift (40 texts)`,
    rows,
    notes,
  };
}

export const qualitySuite: BenchSuite = { name: 'quality', run };
export default qualitySuite;
