import { embedderTsup } from '@embedder/tsup-config';
export default embedderTsup();
