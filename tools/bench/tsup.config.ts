import { embedderTsup } from '@embedder-rag/tsup-config';

// The runner, the per-job child process, the whole-process script (suite cli-process) and every suite (loaded by name at run time). A tool: no declarations.
// transformers.js and onnxruntime-node are devDependencies, so tsup would bundle them unless told otherwise.
export default {
  ...embedderTsup({ entry: ['src/main.ts', 'src/child.ts', 'src/whole-process.ts', 'src/suites/*.ts'] }),
  dts: false,
  external: ['@huggingface/transformers', 'onnxruntime-node'],
};
