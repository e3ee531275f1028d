import { modelDir } from '@embedder-rag/test-fixtures';
import { describeBackendConformance, fetchMiniLmWeights } from '@embedder-rag/testkit';
import { tfjsBackend } from './index';

describeBackendConformance({
  name: 'tfjs',
  registration: tfjsBackend(),
  modelDir: modelDir('test-fixtures/tiny-bert'),
  // Every family fixture runs (bert, xlm-roberta, mpnet, t5); the Dense layer of tiny-sentence-t5 runs in core's shared stage.
  onFamilyResult: (fixture, alone, batched) => console.log(`tfjs ${fixture}: worst max abs diff ${alone.toExponential(2)} alone, ${batched.toExponential(2)} in one batch`),
  miniLm: {
    // The original model.safetensors, fetched once (and sha256-checked) by ../shared/models/fetch-weights.sh.
    modelDir: () => fetchMiniLmWeights(),
    minCosine: 0.99999,
    onMinimum: (minimum, text) => console.log(`tfjs vs sentence-transformers, all-MiniLM-L6-v2: minimum cosine ${minimum.toPrecision(12)} ("${text.slice(0, 40)}")`),
  },
});
