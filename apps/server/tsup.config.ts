import { embedderTsup } from '@embedder/tsup-config';
export default embedderTsup({ entry: ['src/index.ts', 'src/main.ts'] });
