// Preloaded (`node --import`) by the repo's package scripts (pnpm embedder, start, eval, bench, example:*):
// one clear line on a Node too old for embedder, then the settings the quick start recorded in .env (for example
// EMBEDDER_MODEL_PATH), so no command needs anything exported by hand. Variables already set win over .env. A .ts
// script (the examples) on a Node that strips types only when asked is run again with the flag (last block).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

// Mirrors MIN_NODE_VERSION of @embedder-rag/core (this file runs before anything is built or imported).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 13) || (major === 23 && minor < 4)) {
  process.stderr.write(
    `embedder: Node.js ${process.versions.node} is too old: embedder needs Node.js >= 22.13.0 (node:sqlite); ` +
      'run `source tools/scripts/env.sh` to use the Node 24 the quick start installed in .tools/\n',
  );
  process.exit(1);
}

const envFile = fileURLToPath(new URL('../../.env', import.meta.url));
if (existsSync(envFile)) process.loadEnvFile(envFile);

// Node strips TypeScript types by default from 22.18 and 23.6; 22.13-22.17 (and 23.0-23.5) need
// --experimental-strip-types. There, run the same command again with it (and without its ExperimentalWarning), pass
// signals on, and end with the child's exit: the .ts entry itself is never loaded by this process.
const entry = process.argv[1] ?? '';
if (/\.[cm]?ts$/.test(entry) && !process.features.typescript) {
  const args = ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', ...process.execArgv, ...process.argv.slice(1)];
  const child = spawn(process.execPath, args, { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  await new Promise(() => {
    child.on('error', (error) => {
      process.stderr.write(`embedder: cannot run ${entry} with --experimental-strip-types: ${error.message}\n`);
      process.exit(1);
    });
    child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
  });
}
