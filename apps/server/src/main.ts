#!/usr/bin/env node
import { isEmbedderError } from '@embedder/core';
import { configHelp, parseServerConfig } from './config';
import { startServer } from './server';

/** The process entry (`pnpm start`, the Docker image, `embedder-server`): EMBEDDER_* variables and flags. */
async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${configHelp()}\n`);
    return;
  }
  const config = parseServerConfig({ env: process.env, argv });
  const server = await startServer({ config });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal means "now".
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`embedder-server: ${signal}, draining\n`);
    server.close().then(
      ({ forced }) => process.exit(forced ? 1 : 0),
      (error: unknown) => {
        process.stderr.write(`embedder-server: shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  const message = isEmbedderError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.stack ?? error.message : String(error);
  process.stderr.write(`embedder-server: ${message}\n`);
  process.exit(isEmbedderError(error, 'INVALID_CONFIG') ? 2 : 1);
});
