import { buildConfig, type ModelFlags } from '../config';
import { createGenerator } from '../generator';
import { createStderrLogger } from '../logger';

/** `embedder info`: loads the model as `embed` would and prints what was resolved, as one JSON object. */
export async function runInfo(flags: ModelFlags): Promise<void> {
  const config = buildConfig(flags);
  const logger = createStderrLogger(flags.verbose === true);
  const generator = await createGenerator(config, logger);
  try {
    const stats = generator.getStats();
    const { settings } = generator;
    const info = {
      model: generator.model,
      backend: stats.backend,
      runtime: stats.runtime,
      dtype: stats.dtype,
      settings: {
        batchSize: settings.batchSize,
        maxBatchTokens: settings.maxBatchTokens,
        normalize: settings.normalize ?? generator.model.normalize,
        truncate: settings.truncate,
        threads: settings.threads,
        replicas: settings.replicas,
        cacheSize: settings.cacheSize,
        ...(settings.cachePath === undefined ? {} : { cachePath: settings.cachePath }),
        ...(settings.modelPath === undefined ? {} : { modelPath: settings.modelPath }),
      },
      node: process.version,
    };
    process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
  } finally {
    await generator.dispose();
  }
}
