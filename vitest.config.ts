import { defineConfig } from 'vitest/config';

// Tests run on sources (the @embedder-rag/source export condition), so no package needs building first;
// the CLI and server tests spawn the built apps, which `pnpm test` builds before running vitest.
export default defineConfig({
  resolve: { conditions: ['@embedder-rag/source'] },
  ssr: { resolve: { conditions: ['@embedder-rag/source'] } },
  test: {
    reporters: ['default', './tools/vitest-summary-reporter.ts'],
    // No test may reach a public host: a model that resolves nowhere locally meets a closed loopback port, not the
    // Hub. Tests of the download path start their own Hub-like server on 127.0.0.1 and point HF_ENDPOINT at it.
    env: { HF_ENDPOINT: 'http://127.0.0.1:9' },
    // Hang detectors, not speed bounds: on this 2-core machine at load 50 (other jobs + stress-ng) a 230-text padded
    // batch took 111 s and a 96-text /embed 93 s+ (issue 15); what a test asserts never depends on these.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // Two cores: integration tests each load real models; running two files at once is the most this machine takes.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{packages,apps,tools}/*/src/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**', '**/dist/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['{packages,apps,tools}/*/src/**/*.int.test.ts', 'examples/*.int.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**'],
        },
      },
    ],
  },
});
