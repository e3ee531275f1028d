#!/usr/bin/env node
import { main } from './program';

const code = await main(process.argv.slice(2));
// Exit explicitly: native runtimes may keep threads alive after dispose, and stdout/file writes are already flushed.
process.exit(code);
