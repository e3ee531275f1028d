import type { EmbedderConfig, Logger } from '@embedder-rag/core';
import type { EmbeddingGenerator } from '@embedder-rag/embedder';

/**
 * Loads the facade and creates a generator. The facade (and with it the native runtime) is imported only here, on
 * first use, so `--help` and input errors found before the model loads stay fast.
 */
export async function createGenerator(config: EmbedderConfig, logger: Logger): Promise<EmbeddingGenerator> {
  const { EmbeddingGenerator: Generator } = await import('@embedder-rag/embedder');
  let lastReported = 0;
  return Generator.create(config, {
    logger,
    onDownloadProgress: ({ file, downloadedBytes, totalBytes }) => {
      // A line per 10 MB is enough to show a download is alive without flooding a verbose log.
      if (downloadedBytes - lastReported < 10_000_000 && downloadedBytes !== totalBytes) return;
      lastReported = downloadedBytes;
      logger.info(`downloading ${file}`, { downloadedBytes, totalBytes });
    },
  });
}
