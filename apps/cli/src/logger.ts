import type { Logger, LogFields } from '@embedder-rag/core';

/**
 * The CLI's logger: with --verbose, every library log line goes to stderr; otherwise nothing does, so stderr
 * carries only the progress bar and the one error line.
 */
export function createStderrLogger(verbose: boolean): Logger {
  const write = (level: string) => (message: string, fields?: LogFields) => {
    if (!verbose) return;
    const suffix = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
    process.stderr.write(`embedder ${level}: ${message}${suffix}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
