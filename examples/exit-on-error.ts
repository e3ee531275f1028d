// Imported first by each example: a failure (no model found, a missing or bad input file) ends the example with one
// line naming the problem, `example: CODE: message`, instead of a stack trace. EmbedderErrors carry a stable code.
export function exitWithError(error: Error & { code?: unknown }): never {
  // Node's own errors start with their code already ("ENOENT: no such file…").
  const code = typeof error.code === 'string' && !error.message.startsWith(error.code) ? `${error.code}: ` : '';
  process.stderr.write(`example: ${code}${error.message}\n`);
  process.exit(1);
}

process.on('uncaughtException', exitWithError);
