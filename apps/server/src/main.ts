#!/usr/bin/env node
import { isEmbedderError } from '@embedder-rag/core';
import { configHelp, parseServerConfig } from './config';
import { startServer, type RunningServer } from './server';

/** The process entry (`pnpm start`, the Docker image, `embedder-server`): EMBEDDER_* variables and flags. */
async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${configHelp()}\n`);
    return;
  }
  const config = parseServerConfig({ env: process.env, argv });
  const state: { server?: RunningServer } = {};
  let stopping = false;
  const drain = (running: RunningServer) =>
    running.close().then(
      ({ forced }) => process.exit(forced ? 1 : 0),
      (error: unknown) => {
        process.stderr.write(`embedder-server: shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  const stop = (signal: NodeJS.Signals) => {
    // A second signal means "now".
    if (stopping) process.exit(1);
    stopping = true;
    process.stderr.write(`embedder-server: ${signal}, draining\n`);
    if (state.server !== undefined) void drain(state.server);
  };
  // Listening for signals before the models load: a signal during startup still ends in an orderly close.
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  state.server = await startServer({ config });
  if (stopping) void drain(state.server);
}

main().catch((error: unknown) => {
  const message = isEmbedderError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.stack ?? error.message : String(error);
  process.stderr.write(`embedder-server: ${message}\n`);
  process.exit(isEmbedderError(error, 'INVALID_CONFIG') ? 2 : 1);
});
