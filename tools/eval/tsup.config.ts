import { embedderTsup } from '@embedder-rag/tsup-config';
// The library (index, for tools/bench) and the `pnpm eval` command (main).
export default embedderTsup({ entry: ['src/index.ts', 'src/main.ts'] });
