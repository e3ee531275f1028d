#!/usr/bin/env node
import { unsupportedNodeMessage } from '@embedder-rag/core';
import { main } from './program';

// Before any command loads the facade (whose persistent cache imports node:sqlite): one clear line on an old Node.
const tooOld = unsupportedNodeMessage();
if (tooOld !== undefined) {
  process.stderr.write(`embedder: ${tooOld}\n`);
  process.exit(1);
}
const code = await main(process.argv.slice(2));
// Exit explicitly: native runtimes may keep threads alive after dispose, and stdout/file writes are already flushed.
process.exit(code);
