import { modelDir } from '@embedder-rag/test-fixtures';
import { describeBackendConformance } from '@embedder-rag/testkit';
import { onnxBackend } from './index';

describeBackendConformance({
  name: 'onnx',
  registration: onnxBackend(),
  modelDir: modelDir('test-fixtures/tiny-bert'),
  onFamilyResult: (fixture, alone, batched) => console.log(`onnx ${fixture}: worst max abs diff ${alone.toExponential(2)} alone, ${batched.toExponential(2)} in one batch`),
  miniLm: {
    modelDir: modelDir('all-MiniLM-L6-v2'),
    minCosine: 0.99999,
    onMinimum: (minimum, text) => console.log(`onnx vs sentence-transformers, all-MiniLM-L6-v2: minimum cosine ${minimum.toPrecision(12)} ("${text.slice(0, 40)}")`),
  },
});
