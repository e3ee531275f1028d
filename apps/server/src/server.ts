import { readFileSync } from 'node:fs';
import pino, { type Logger as PinoLogger } from 'pino';
import { fromPino } from '@embedder-rag/core';
import { buildApp } from './app';
import { parseServerConfig, type ConfigSources, type ServerConfig } from './config';
import { AppContext } from './context';
import { ServerMetrics } from './metrics';
import { ModelPool } from './models';

/** Options of {@link startServer}: a full config, or sources to build one from (variables, flags, overrides). */
export interface StartServerOptions extends ConfigSources {
  /** A validated config; when given, env/argv/overrides are ignored. */
  config?: ServerConfig;
  /** A pino logger to use instead of one made from the config's log level. */
  logger?: PinoLogger;
  /** Called with the URL once the port is open, before the models have loaded (/ready is 503 until then). */
  onListening?: (url: string) => void;
}

/** A running server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  config: ServerConfig;
  /**
   * Graceful stop: readiness turns 503 at once, the listener stops accepting, in-flight requests finish, then the
   * models are disposed (flushing persistent caches). Connections still open after `shutdownGraceMs` are cut.
   * Resolves `{ forced: true }` when that happened.
   */
  close(): Promise<{ forced: boolean }>;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * Starts the embedding service: listens first (so /health and /ready answer 503 while models load), then loads
 * every configured model and resolves once the service is ready. Throws INVALID_CONFIG for a bad setting and the
 * facade's error when a model cannot load (the listener is closed again).
 */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const config = options.config ?? parseServerConfig(options);
  const logger = options.logger ?? pino({ level: config.logLevel, base: { service: 'embedder' } });
  const metrics = new ServerMetrics();
  const ctx = new AppContext(config, metrics, fromPino(logger), packageVersion());
  const app = await buildApp(ctx, logger);
  const address = await app.listen({ port: config.port, host: config.host });
  const url = address.replace('://0.0.0.0', '://127.0.0.1').replace('://[::]', '://127.0.0.1');
  logger.info({ url, models: config.models }, 'listening; loading models');
  options.onListening?.(url);

  let pool: ModelPool;
  try {
    pool = await ModelPool.load(config, ctx.logger, metrics);
  } catch (error) {
    ctx.phase = 'failed';
    await app.close();
    throw error;
  }
  ctx.setPool(pool);
  logger.info({ url }, 'ready');

  let closing: Promise<{ forced: boolean }> | undefined;
  const close = (): Promise<{ forced: boolean }> => {
    closing ??= (async () => {
      ctx.phase = 'draining';
      let forced = false;
      const timer = setTimeout(() => {
        forced = true;
        logger.warn({ graceMs: config.shutdownGraceMs }, 'grace period over; closing open connections');
        app.server.closeAllConnections();
      }, config.shutdownGraceMs);
      try {
        await app.close();
      } finally {
        clearTimeout(timer);
      }
      await pool.dispose();
      ctx.phase = 'closed';
      logger.info({ forced }, 'stopped');
      return { forced };
    })();
    return closing;
  };
  return { url, config, close };
}
