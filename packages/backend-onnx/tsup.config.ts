import { embedderTsup } from '@embedder-rag/tsup-config';
// onnx-worker runs each model replica in a worker thread (found as ./onnx-worker.js next to index.js).
export default embedderTsup({ entry: ['src/index.ts', 'src/onnx-worker.ts'] });
