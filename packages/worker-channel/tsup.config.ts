import { embedderTsup } from '@embedder-rag/tsup-config';
export default embedderTsup();
