import { embedderTsup } from '@embedder-rag/tsup-config';

// tsup strips the node: prefix by default, but node:sqlite exists only under its prefixed name.
export default { ...embedderTsup(), removeNodeProtocol: false };
