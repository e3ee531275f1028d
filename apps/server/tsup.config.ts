import { embedderTsup } from '@embedder-rag/tsup-config';
// model-worker runs in a worker thread beside index/main (found as ./model-worker.js next to them).
export default embedderTsup({ entry: ['src/index.ts', 'src/main.ts', 'src/model-worker.ts'] });
