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
  let stoppingSince: number | undefined;
  const drain = (running: RunningServer) =>
    running.close().then(
      ({ forced }) => process.exit(forced ? 1 : 0),
      (error: unknown) => {
        process.stderr.write(`embedder-server: shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  const stop = (signal: NodeJS.Signals) => {
    // A second signal means "now". Ctrl-C under `pnpm start` delivers SIGINT twice at once (from the terminal and
    // passed on by pnpm): a repeat within a second is the same request.
    if (stoppingSince !== undefined) {
      if (performance.now() - stoppingSince > 1000) process.exit(1);
      return;
    }
    stoppingSince = performance.now();
    process.stderr.write(`embedder-server: ${signal}, draining\n`);
    if (state.server !== undefined) void drain(state.server);
  };
  // Listening for signals before the models load: a signal during startup still ends in an orderly close.
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  state.server = await startServer({ config });
  if (stoppingSince !== undefined) void drain(state.server);
}

main().catch((error: unknown) => {
  const code = (error as NodeJS.ErrnoException).code;
  // A port in use or not allowed is the user's setting, not a bug: one line, no stack.
  const listenFailure = code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL';
  const message = isEmbedderError(error)
    ? `${error.code}: ${error.message}`
    : listenFailure
      ? `cannot listen: ${(error as Error).message} (choose another --port / EMBEDDER_PORT or --host / EMBEDDER_HOST)`
      : error instanceof Error
        ? (error.stack ?? error.message)
        : String(error);
  process.stderr.write(`embedder-server: ${message}\n`);
  process.exit(isEmbedderError(error, 'INVALID_CONFIG') || listenFailure ? 2 : 1);
});
