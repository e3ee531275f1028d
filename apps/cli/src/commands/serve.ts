import { once } from 'node:events';
import { EmbedderError } from '@embedder-rag/core';

/**
 * `embedder serve [flags]`: starts @embedder-rag/server with the given flags (parsed by the server, so `serve` and
 * `embedder-server` take the same ones and read the same EMBEDDER_* variables) and stays up until SIGTERM or
 * SIGINT, then drains and closes it. A second signal ends the process at once (the default action).
 */
export async function runServe(args: readonly string[]): Promise<void> {
  // Loaded on use: fastify and the rest of the server cost every other command ~100 ms of start-up.
  const { configHelp, startServer } = await import('@embedder-rag/server');
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${configHelp().replace('embedder-server', 'embedder serve')}\n`);
    return;
  }
  // Listen for the signals before starting: a signal during model load still closes cleanly.
  const signalled = Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
  const server = await startServer({ env: process.env, argv: [...args] });
  await signalled;
  const { forced } = await server.close();
  if (forced) {
    const graceMs = server.config.shutdownGraceMs;
    throw new EmbedderError('TIMEOUT', `requests were still open after the shutdown grace period (${graceMs} ms); they were cut`, {
      details: { graceMs },
    });
  }
}
