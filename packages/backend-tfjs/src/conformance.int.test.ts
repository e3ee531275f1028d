import { modelDir } from '@embedder-rag/test-fixtures';
import { describeBackendConformance, fetchMiniLmWeights } from '@embedder-rag/testkit';
import { tfjsBackend } from './index';

describeBackendConformance({
  name: 'tfjs',
  registration: tfjsBackend(),
  modelDir: modelDir('test-fixtures/tiny-bert'),
  miniLm: {
    // The original model.safetensors, fetched once (and sha256-checked) by ../shared/models/fetch-weights.sh.
    modelDir: () => fetchMiniLmWeights(),
    minCosine: 0.99999,
    onMinimum: (minimum, text) => console.log(`tfjs vs sentence-transformers, all-MiniLM-L6-v2: minimum cosine ${minimum.toPrecision(12)} ("${text.slice(0, 40)}")`),
  },
});
